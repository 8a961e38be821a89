// signals.hpp (internal to heuristics/): the one table of signal ids, their families, default
// weights and one-line meanings. Detectors refer to signals by id; scoring and the docs
// (docs/scoring.md) read weights from here. Weights are score points on a 0..100 scale;
// families cap the sum of correlated signals so that no family alone can make a verdict.
#pragma once
#include <string_view>

namespace hdrscan::heuristics {

enum class Family { relay, abuse, known_ip, stripping, body, sender, bulk, integrity, rule };

struct SignalSpec {
  std::string_view id;
  Family family;
  int weight;
  std::string_view meaning;
};

// Family caps: the most a family contributes, whatever fires inside it.
int family_cap(Family f);

const SignalSpec* find_signal(std::string_view id);

}  // namespace hdrscan::heuristics
