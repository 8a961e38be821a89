// sharing.cpp: what the sharing exports (STIX, MISP, CSV of indicators, the HTML page) may
// say about a wave's URL infrastructure, in one place (waves.hpp, docs/waves.md "Sharing").
// A URL is flagged for IDS (MISP to_ids, a STIX indicator, to_ids in the CSV) only when a
// receiver can act on it without harm: seen in two or more messages of the wave (a per-message
// dynamic URL never matches anything again, thousands of them would flood an IDS, and a
// sandbox or proxy fetching one confirms the recipient's address to the sender), nothing in
// it redacted (a URL holding the recipient mark is not the URL that was sent), and not on a
// shared service's domain (WaveOptions::ignore_domains: blocking it blocks legitimate mail).
#include "mime/fields/features.hpp"
#include "mime/net.hpp"
#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {

bool shared_service(const WavesRun& run, std::string_view domain) {
  for (const auto& d : run.options.ignore_domains)
    if (d == domain) return true;
  return false;
}

std::string url_domain(std::string_view url) {
  const std::string host = mime::url_host(url);
  if (host.empty()) return {};
  std::string d = mime::registrable_domain(host);
  return d.empty() ? host : d;
}

bool url_for_ids(const WavesRun& run, const Counted& url) {
  return url.messages >= 2 && url.value.find(mime::kRecipientMark) == std::string::npos &&
         !shared_service(run, url_domain(url.value));
}

std::string url_note(const WavesRun& run, const Counted& url) {
  if (url.value.find(mime::kRecipientMark) != std::string::npos)
    return "recipient address redacted; not for IDS";
  if (shared_service(run, url_domain(url.value))) return "shared service domain; not for IDS";
  if (url.messages < 2) return "seen in one message (per-message dynamic URL); not for IDS";
  return "seen in " + std::to_string(url.messages) + " messages";
}

}  // namespace hdrscan::scanner
