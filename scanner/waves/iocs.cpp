// iocs.cpp: waves as a flat CSV of indicators (--csv-iocs FILE), one row per value and wave,
// for a SIEM lookup table or a spreadsheet:
//   type,value,wave,first_seen,last_seen,messages,to_ids,note
// type: ip (connector IP), domain (URL registrable domain, not a shared service), url (to_ids
// as sharing.cpp decides, the why in note), email (From address), tenant (the abused tenant:
// to_ids false, a victim, never to block), subject (to_ids false), and with
// --include-recipients recipient (to_ids false, a victim).
// RFC 4180 quoting and spreadsheet-formula defusing through printers' csv_field (attacker
// text: a leading = + - @ gets a ' prefix). Recipients only with --include-recipients; bodies
// never.
#include <fmt/format.h>

#include "mime/net.hpp"
#include "scanner/printers.hpp"
#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {

std::string render_csv_iocs(const WavesRun& run) {
  std::string o = "type,value,wave,first_seen,last_seen,messages,to_ids,note\n";
  for (const Wave& w : run.waves) {
    const std::string first = w.first_seen ? iso_utc(*w.first_seen) : "";
    const std::string last = w.last_seen ? iso_utc(*w.last_seen) : "";
    auto row = [&](const char* type, const std::string& value, std::size_t n, bool ids,
                   const std::string& note) {
      o += fmt::format("{},{},{},{},{},{},{},{}\n", type, csv_field(value, true), w.id, first, last,
                       n, ids ? "true" : "false", csv_field(note, true));
    };
    for (const auto& ip : w.connector_ips) {
      const auto a = mime::parse_ip(ip.value);
      if (a && !a->is_private()) row("ip", a->to_string(), ip.messages, true, "connector IP");
    }
    for (const auto& d : w.url_domains)
      if (!shared_service(run, d.value)) row("domain", d.value, d.messages, true, "URL domain");
    for (const auto& u : w.urls)
      if (!shared_service(run, url_domain(u.value)))
        row("url", u.value, u.messages, url_for_ids(run, u), url_note(run, u));
    for (const auto& f : w.from_addresses) row("email", f.value, f.messages, true, "From address");
    for (const auto& t : w.tenants)
      row("tenant", t.extra.empty() ? t.value : t.extra, t.messages, false,
          "abused tenant " + t.value + " (victim)");
    for (const auto& s : w.subjects) row("subject", s.value, s.messages, false, "lure subject");
    if (run.include_recipients)
      for (const auto& r : w.recipients)
        row("recipient", r.value, r.messages, false, "recipient (victim)");
  }
  return o;
}

}  // namespace hdrscan::scanner
