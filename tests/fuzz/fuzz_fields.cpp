// fuzz_fields.cpp: the structured header parsers of mime/fields/fields.hpp, one binary per parser
// (HDRSCAN_FUZZ_FIELD selects it, see CMakeLists.txt): 0 parse_received, 1
// parse_authentication_results, 2 parse_tag_list, 3 parse_key_value_list, 4
// parse_tenant_connecting_ip, 5 parse_received_spf, 6 parse_rfc5322_date, 7 extract_address
// + address_domain. Each parser's accessors are exercised on what it returned.
// Invariants: a result that is not ok says why (reason non-empty); output strings are no
// longer than the input (parsers only cut and copy; they must not allocate beyond a bound
// proportional to the input).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"
#include "mime/fields/fields.hpp"

#ifndef HDRSCAN_FUZZ_FIELD
#error "HDRSCAN_FUZZ_FIELD must be defined (0..7)"
#endif

using namespace hdrscan;

namespace {
template <class R>
void check_reason(const R& r) {
  fuzz::check(r.ok || !r.reason.empty(), "a result that is not ok has a reason");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t bound = size + 64;
#if HDRSCAN_FUZZ_FIELD == 0
  auto r = mime::parse_received(in);
  check_reason(r);
  fuzz::check(r.from_host.size() <= bound && r.by_host.size() <= bound && r.date_text.size() <= bound,
              "received fields bounded by input");
  if (r.from_ip) (void)r.from_ip->to_string();
#elif HDRSCAN_FUZZ_FIELD == 1
  auto r = mime::parse_authentication_results(in);
  check_reason(r);
  fuzz::check(r.results.size() <= size + 1, "results bounded by input");
  for (const auto& m : r.results) {
    (void)m.prop("smtp.mailfrom");
    (void)m.prop("header.d");
  }
  (void)r.find("dkim");
  (void)r.find("spf");
#elif HDRSCAN_FUZZ_FIELD == 2
  auto r = mime::parse_tag_list(in);
  check_reason(r);
  fuzz::check(r.tags.size() <= size + 1, "tags bounded by input");
  (void)r.get("d");
  (void)r.get_int("i");
  (void)r.get_int("l");
  auto h = r.header_list();
  fuzz::check(h.size() <= size + 1, "header list bounded by input");
#elif HDRSCAN_FUZZ_FIELD == 3
  auto r = mime::parse_key_value_list(in);
  check_reason(r);
  fuzz::check(r.items.size() <= size + 1, "items bounded by input");
  (void)r.get("CIP");
  (void)r.get("sfv");
#elif HDRSCAN_FUZZ_FIELD == 4
  auto r = mime::parse_tenant_connecting_ip(in);
  check_reason(r);
  fuzz::check(r.tenant_id.size() <= bound && r.helo.size() <= bound && r.ip_text.size() <= bound,
              "tenant fields bounded by input");
  if (r.ip) (void)r.ip->to_string();
#elif HDRSCAN_FUZZ_FIELD == 5
  auto r = mime::parse_received_spf(in);
  check_reason(r);
  fuzz::check(r.props.size() <= size + 1, "props bounded by input");
  (void)r.prop("client-ip");
#elif HDRSCAN_FUZZ_FIELD == 6
  (void)mime::parse_rfc5322_date(in);
#elif HDRSCAN_FUZZ_FIELD == 7
  auto a = mime::extract_address(in);
  fuzz::check(a.size() <= bound, "address bounded by input");
  (void)mime::address_domain(a);
  (void)mime::address_domain(in);
#else
#error "unknown HDRSCAN_FUZZ_FIELD"
#endif
  return 0;
}
