// meanings.hpp: what Microsoft 365 / Exchange Online header fields and values mean, as
// `hdrscan explain` shows them beside the raw values: the antispam keys
// (X-Forefront-Antispam-Report, X-Microsoft-Antispam, ...-Mailbox-Delivery), the Exchange
// tenant headers and their values, the compauth reason codes. The knowledge is data,
// corpus/knowledge/header-meanings.tsv (its head comment is the format), compiled in.
// Limits: lookups are linear over a table of ~150 entries, ASCII case-insensitive.
// Diagnostics: parse() reports every bad line as "line N: reason" and skips it; builtin()
// throws std::runtime_error naming the file and line when the compiled-in copy has one (a
// build defect: tests/unit/explain_meanings_test.cpp fails first).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace hdrscan::scanner {

struct HeaderMeanings {
  struct Named {  // NAME/KEY/CODE -> TEXT
    std::string name, text;
  };
  struct Valued {  // NAME/KEY/SUFFIX + VALUE -> TEXT
    std::string name, value, text;
  };
  std::vector<std::string> antispam_headers;  // decoded key by key, in this order
  std::vector<Named> antispam_keys;
  std::vector<Valued> antispam_values;
  std::vector<Named> exchange_headers;
  std::vector<std::string> exchange_prefixes;
  std::vector<Valued> exchange_values;  // name: a header-name suffix
  std::vector<Named> compauth_reasons;  // name: three digits
  std::vector<Named> compauth_classes;  // name: one digit

  static HeaderMeanings parse(std::string_view text, std::vector<std::string>& errors);
  static const HeaderMeanings& builtin();

  // "" where the table has no entry.
  std::string_view key_meaning(std::string_view key) const;
  std::string_view value_meaning(std::string_view key, std::string_view value) const;
  std::string_view header_meaning(std::string_view name) const;
  // True when `name` starts with an exchange-prefix.
  bool exchange_family(std::string_view name) const;
  // The first exchange-value whose suffix ends `header` and whose value is `value`.
  std::string_view exchange_value(std::string_view header, std::string_view value) const;
  // A compauth reason code ("000", "109", "reason=001" stripped by the caller): the exact
  // three-digit entry, else the class of its first digit; "" for a code shorter than three.
  std::string_view compauth(std::string_view reason) const;
};

// The bytes of corpus/knowledge/header-meanings.tsv (generated at build time).
std::string_view header_meanings_text();

}  // namespace hdrscan::scanner
