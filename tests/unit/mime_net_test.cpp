// mime_net_test.cpp: IpAddress / Cidr parsing, canonical text (RFC 5952), private ranges and
// range membership, on addresses taken from real Received: headers in ../shared/corpus.
#include <doctest/doctest.h>

#include <string>

#include <libpsl.h>

#include "mime/net.hpp"

using hdrscan::mime::Cidr;
using hdrscan::mime::IpAddress;
using hdrscan::mime::parse_cidr;
using hdrscan::mime::parse_ip;

namespace {
std::string canon(std::string_view text) {
  auto ip = parse_ip(text);
  return ip ? ip->to_string() : std::string("<none>");
}
}  // namespace

TEST_CASE("IPv4 literals, bare and bracketed") {
  auto ip = parse_ip("54.39.94.145");
  REQUIRE(ip);
  CHECK_FALSE(ip->v6);
  CHECK(ip->bytes[0] == 54);
  CHECK(ip->bytes[3] == 145);
  CHECK(ip->bytes[4] == 0);
  CHECK(ip->to_string() == "54.39.94.145");
  CHECK(canon("[40.107.7.77]") == "40.107.7.77");
  CHECK(canon("  170.75.174.95 ") == "170.75.174.95");
  CHECK(canon("[ 10.152.4.248 ]") == "10.152.4.248");
}

TEST_CASE("IPv6 literals: compressed, full, embedded v4, IPv6: tag, zone id") {
  CHECK(canon("2603:10a6:10:72::31") == "2603:10a6:10:72::31");
  CHECK(canon("2603:10B6:208:2C7:CAFE::94") == "2603:10b6:208:2c7:cafe::94");
  CHECK(canon("::1") == "::1");
  CHECK(canon("::") == "::");
  CHECK(canon("2001:0db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1");
  CHECK(canon("[IPv6:2620:137:e000::1:20]") == "2620:137:e000::1:20");
  CHECK(canon("IPv6:2604:1380:4601:e00::3") == "2604:1380:4601:e00::3");
  CHECK(canon("fe80::cedd:1e64:8f61:b9df%4") == "fe80::cedd:1e64:8f61:b9df");
  CHECK(canon("[fe80::900:1ccf:2b1e:52b6%11]") == "fe80::900:1ccf:2b1e:52b6");
  // Embedded IPv4 in a non-mapped address stays IPv6, printed in hex.
  CHECK(canon("64:ff9b::192.0.2.33") == "64:ff9b::c000:221");
}

TEST_CASE("RFC 5952 canonical text") {
  // Longest zero run compressed; the first of two equal runs; a single zero group is not.
  CHECK(canon("2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1");
  CHECK(canon("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1");
  CHECK(canon("2001:0:0:1:0:0:0:1") == "2001:0:0:1::1");
  CHECK(canon("1:0:0:0:0:0:0:0") == "1::");
  CHECK(canon("0:0:0:0:0:0:0:5") == "::5");
}

TEST_CASE("IPv4-mapped IPv6 becomes IPv4 and compares equal") {
  auto mapped = parse_ip("::ffff:54.39.94.145");
  auto plain = parse_ip("54.39.94.145");
  REQUIRE(mapped);
  REQUIRE(plain);
  CHECK_FALSE(mapped->v6);
  CHECK(*mapped == *plain);
  CHECK(canon("[IPv6:::ffff:10.1.2.3]") == "10.1.2.3");
  CHECK(canon("::FFFF:0a01:0203") == "10.1.2.3");
}

TEST_CASE("garbage and near-misses are rejected") {
  for (const char* bad :
       {"", " ", "[]", "[1.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4:25",
        "host.example.com", "2603:10a6::31::1", "12345::1", "IPv6:1.2.3.4", "fe80::1%",
        ":::", "1.2.3.4 5.6.7.8", "unknown", "TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384"}) {
    INFO("input: '" << std::string(bad) << "'");
    CHECK_FALSE(parse_ip(bad));
  }
  CHECK_FALSE(parse_ip(std::string(200, '1')));
  CHECK_FALSE(parse_ip(std::string("1.2.3.4\0", 8)));
}

TEST_CASE("private, loopback, link-local and ULA ranges") {
  for (const char* priv :
       {"10.152.4.248", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.10.1",
        "100.90.174.1", "::1", "::", "fe80::cedd:1e64:8f61:b9df", "fd00::1", "fc00::5"}) {
    INFO(std::string(priv));
    auto ip = parse_ip(priv);
    REQUIRE(ip);
    CHECK(ip->is_private());
  }
  for (const char* pub :
       {"54.39.94.145", "172.32.0.1", "172.15.255.255", "40.107.7.77", "2603:10a6:10:72::31",
        "2620:137:e000::1:20", "192.169.0.1", "100.128.0.1", "fec0::1x"}) {
    INFO(std::string(pub));
    auto ip = parse_ip(pub);
    if (!ip) continue;  // "fec0::1x" is not an address at all
    CHECK_FALSE(ip->is_private());
  }
  CHECK(parse_ip("::ffff:192.168.0.1")->is_private());
}

TEST_CASE("CIDR parsing, canonical base and membership for both families") {
  auto eop = parse_cidr("40.92.0.0/15");
  REQUIRE(eop);
  CHECK(eop->prefix == 15);
  CHECK(eop->contains(*parse_ip("40.93.255.1")));
  CHECK_FALSE(eop->contains(*parse_ip("40.94.0.1")));
  CHECK_FALSE(eop->contains(*parse_ip("2a01:111:f400::1")));

  auto v6 = parse_cidr("2a01:111:f400::/48");
  REQUIRE(v6);
  CHECK(v6->contains(*parse_ip("2a01:111:f400:7e1b::205")));
  CHECK_FALSE(v6->contains(*parse_ip("2a01:111:f401::1")));
  CHECK_FALSE(v6->contains(*parse_ip("40.92.0.1")));
  CHECK(v6->to_string() == "2a01:111:f400::/48");

  auto host = parse_cidr("170.75.174.95");
  REQUIRE(host);
  CHECK(host->prefix == 32);
  CHECK(host->contains(*parse_ip("170.75.174.95")));
  CHECK_FALSE(host->contains(*parse_ip("170.75.174.96")));
  CHECK(parse_cidr("2603:10b6::1")->prefix == 128);

  // Host bits are cleared so the text names the range.
  CHECK(parse_cidr("10.1.2.3/8")->to_string() == "10.0.0.0/8");
  CHECK(parse_cidr("0.0.0.0/0")->contains(*parse_ip("8.8.8.8")));
  CHECK_FALSE(parse_cidr("0.0.0.0/0")->contains(*parse_ip("::1")));
  CHECK(parse_cidr("::/0")->contains(*parse_ip("2603:10a6::31")));
  // Odd prefix lengths cut inside a byte.
  CHECK(parse_cidr("172.16.0.0/12")->contains(*parse_ip("172.31.0.1")));
  CHECK_FALSE(parse_cidr("172.16.0.0/12")->contains(*parse_ip("172.32.0.1")));
  // A mapped range is an IPv4 range.
  auto mapped = parse_cidr("::ffff:10.0.0.0/104");
  REQUIRE(mapped);
  CHECK_FALSE(mapped->base.v6);
  CHECK(mapped->prefix == 8);
  CHECK(mapped->contains(*parse_ip("10.9.9.9")));
}

TEST_CASE("bad CIDR text is rejected") {
  for (const char* bad :
       {"", "/24", "40.92.0.0/", "40.92.0.0/33", "40.92.0.0/-1", "40.92.0.0/1x",
        "2a01:111:f400::/129", "host/24", "::ffff:10.0.0.0/64", "40.92.0.0/15/2"}) {
    INFO("input: '" << std::string(bad) << "'");
    CHECK_FALSE(parse_cidr(bad));
  }
}

// ---- registrable_domain (issue 14): the Public Suffix List through libpsl's built-in list --

using hdrscan::mime::registrable_domain;

TEST_CASE("libpsl's built-in list is there and is the one used") {
  // A libpsl built without a list would make every name its own organization: fail here.
  REQUIRE(psl_builtin() != nullptr);
  // Debian 12's libpsl5 0.21.2 carries the list of 2023-02-09 (publicsuffix 20230209.2326).
  CHECK(psl_builtin_file_time() >= 1675900000);
  INFO("libpsl " << psl_get_version() << ", built-in list " << psl_builtin_sha1sum());
  CHECK(registrable_domain("mail.bmw.de") == "bmw.de");
}

TEST_CASE("registrable domains: ICANN suffixes of one, two and three labels") {
  CHECK(registrable_domain("mail.bmw.de") == "bmw.de");  // a short second label is not a suffix
  CHECK(registrable_domain("bmw.de") == "bmw.de");
  CHECK(registrable_domain("foo.co.uk") == "foo.co.uk");
  CHECK(registrable_domain("smtp.foo.co.uk") == "foo.co.uk");
  CHECK(registrable_domain("a.b.example.com") == "example.com");
  CHECK(registrable_domain("valinux.co.jp") == "valinux.co.jp");
  CHECK(registrable_domain("t4.cims.jp") == "cims.jp");
  CHECK(registrable_domain("cs.auckland.ac.nz") == "auckland.ac.nz");
  CHECK(registrable_domain("piap.lukasiewicz.gov.pl") == "lukasiewicz.gov.pl");
  CHECK(registrable_domain("leica-geosystems.com.cn") == "leica-geosystems.com.cn");
  // Real envelope domains of ../shared/corpus/dev_field_m365 the old two-or-three-label guess
  // got wrong (it kept a short label before a two-letter TLD as part of the suffix).
  CHECK(registrable_domain("connect.ust.hk") == "ust.hk");  // linux-crypto/00038.eml
  CHECK(registrable_domain("sch.bme.hu") == "bme.hu");      // linux-hwmon/00096.eml
  // Microsoft's own hosts.
  CHECK(registrable_domain("AM6PR02MB1234.eurprd02.prod.outlook.com") == "outlook.com");
  CHECK(registrable_domain("mail-eopbgr70077.outbound.protection.outlook.com") == "outlook.com");
}

TEST_CASE("registrable domains: private section entries are public suffixes too") {
  // The PSL's private section lists names under which independent parties register (DMARC's
  // organizational domain uses both sections): each is its own organization.
  CHECK(registrable_domain("x.github.io") == "x.github.io");
  CHECK(registrable_domain("y.github.io") == "y.github.io");
  CHECK(registrable_domain("include.uk.com") == "include.uk.com");  // dev_relays/sample-6436.eml
  CHECK(registrable_domain("app.azurewebsites.net") == "app.azurewebsites.net");
}

TEST_CASE("registrable domains: Microsoft 365 tenants own their name under onmicrosoft.com") {
  // onmicrosoft.com is not on the PSL (neither Debian's 2023 list nor upstream's), yet every
  // <tenant>.onmicrosoft.com is one tenant's: two tenants must not look like one organization.
  CHECK(registrable_domain("contoso.onmicrosoft.com") == "contoso.onmicrosoft.com");
  CHECK(registrable_domain("mar20593117.onmicrosoft.com") == "mar20593117.onmicrosoft.com");
  CHECK(registrable_domain("x.contoso.onmicrosoft.com") == "contoso.onmicrosoft.com");
  CHECK(registrable_domain("Contoso.Mail.OnMicrosoft.com") == "contoso.onmicrosoft.com");  // hybrid routing
  CHECK(registrable_domain("fabrikam.onmicrosoft.com") != registrable_domain("contoso.onmicrosoft.com"));
  CHECK(registrable_domain("onmicrosoft.com").empty());
  CHECK(registrable_domain(".onmicrosoft.com").empty());
}

TEST_CASE("registrable domains: case, trailing dot, IDN, and names without one") {
  CHECK(registrable_domain("MAIL.BMW.DE.") == "bmw.de");
  CHECK(registrable_domain("  foo.CO.uk ") == "foo.co.uk");
  CHECK(registrable_domain("www.B\xC3\x9C" "CHER.de") == "b\xC3\xBC" "cher.de");  // UTF-8, lower-cased
  CHECK(registrable_domain("xn--bcher-kva.de") == "xn--bcher-kva.de");
  for (const char* none : {"", ".", "com", "co.uk", "github.io", "localhost", "192.0.2.1", "[192.0.2.1]",
                           "2603:10a6::31", "a b.example.com", "u@example.com", "\xFF\xFE.de"}) {
    INFO("input: '" << std::string(none) << "'");
    CHECK(registrable_domain(none).empty());
  }
  CHECK(registrable_domain(std::string(300, 'a') + ".com").empty());  // longer than a host name
}
