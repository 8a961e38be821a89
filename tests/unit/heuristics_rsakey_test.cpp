// The keys of `dkim-key` / `arc-seal-key` entries (heuristics/signature.hpp PublicKey)
// against OpenSSL's d2i_PUBKEY, which loaded them before: for the pack's real keys, generated
// RSA keys of several sizes and exponents, other key types (the d2i_PUBKEY fallback), every
// truncation, changed bytes and hand-made encodings at the edges of the plain RSA form
// (non-minimal lengths and integers, negative or even numbers, other algorithms, trailing
// bytes), both must accept the same inputs and give the same key.
#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "heuristics/signature.hpp"
#include "mime/decode.hpp"

using namespace hdrscan;

namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string der_of(EVP_PKEY* k) {
  unsigned char* out = nullptr;
  const int n = i2d_PUBKEY(k, &out);
  REQUIRE(n > 0);
  std::string s(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return s;
}

Pkey reference(const std::string& der) {
  const unsigned char* q = reinterpret_cast<const unsigned char*>(der.data());
  return Pkey(d2i_PUBKEY(nullptr, &q, static_cast<long>(der.size())), EVP_PKEY_free);
}

// Both decoders accept `der` or both reject it, with the same key. Returns whether accepted.
bool agree(const std::string& der) {
  Pkey ref = reference(der);
  const auto decoded = heuristics::PublicKey::decode(der);
  CHECK((decoded == nullptr) == (ref == nullptr));
  if (!decoded || !ref) return false;
  EVP_PKEY* got = decoded->get();
  REQUIRE(got != nullptr);
  CHECK(decoded->get() == got);  // built once
  CHECK(EVP_PKEY_eq(got, ref.get()) == 1);
  CHECK(EVP_PKEY_get_base_id(got) == EVP_PKEY_get_base_id(ref.get()));
  CHECK(EVP_PKEY_get_bits(got) == EVP_PKEY_get_bits(ref.get()));
  CHECK(der_of(got) == der_of(ref.get()));
  return true;
}

// p= of every dkim-key / arc-seal-key line of an indicator file, decoded.
std::vector<std::string> pack_keys(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("dkim-key ", 0) != 0 && line.rfind("arc-seal-key ", 0) != 0) continue;
    const std::size_t p = line.find("p=");
    REQUIRE(p != std::string::npos);
    std::string b64 = line.substr(p + 2);
    b64 = b64.substr(0, b64.find(';'));
    const auto der = mime::decode_base64_exact(b64);
    REQUIRE(der.has_value());
    keys.push_back(*der);
  }
  return keys;
}

Pkey rsa_key(unsigned bits, unsigned exponent, const char* type = "RSA") {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  REQUIRE(ctx != nullptr);
  REQUIRE(EVP_PKEY_keygen_init(ctx) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, static_cast<int>(bits)) == 1);
  BIGNUM* e = BN_new();
  REQUIRE(BN_set_word(e, exponent) == 1);
  REQUIRE(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) == 1);
  BN_free(e);
  EVP_PKEY* k = nullptr;
  REQUIRE(EVP_PKEY_keygen(ctx, &k) == 1);
  EVP_PKEY_CTX_free(ctx);
  return Pkey(k, EVP_PKEY_free);
}

// DER: tag, minimal length, body.
std::string tlv(unsigned char tag, const std::string& body) {
  std::string out(1, static_cast<char>(tag));
  const std::size_t n = body.size();
  if (n < 0x80) out += static_cast<char>(n);
  else if (n < 0x100) out += "\x81", out += static_cast<char>(n);
  else out += "\x82", out += static_cast<char>(n >> 8), out += static_cast<char>(n & 0xff);
  return out + body;
}

const std::string kRsaAlg("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00", 15);

// A SubjectPublicKeyInfo of rsaEncryption around the INTEGER bodies `n` and `e` (as given: no
// sign octet added).
std::string spki(const std::string& n, const std::string& e, const std::string& alg = kRsaAlg) {
  const std::string rsa = tlv(0x30, tlv(0x02, n) + tlv(0x02, e));
  return tlv(0x30, alg + tlv(0x03, std::string(1, '\0') + rsa));
}

std::string random_odd(std::size_t bytes, std::mt19937& rng) {
  std::string s(bytes, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  s[0] = static_cast<char>(s[0] | 0x80);
  s.back() = static_cast<char>(s.back() | 1);
  return s;
}

}  // namespace

TEST_CASE("the pack's keys and generated keys decode as d2i_PUBKEY decodes them") {
  std::vector<std::string> keys = pack_keys(std::string(HDRSCAN_SOURCE_DIR) + "/corpus/indicators/builtin.ind");
  const auto test_keys = pack_keys(std::string(HDRSCAN_SOURCE_DIR) + "/tests/data/dkim/keys.ind");
  REQUIRE(keys.size() >= 2);
  REQUIRE(test_keys.size() >= 1);
  keys.insert(keys.end(), test_keys.begin(), test_keys.end());
  for (auto [bits, e] : {std::pair{1024u, 65537u}, {2048u, 65537u}, {3072u, 65537u}, {1024u, 3u}, {2048u, 17u}})
    keys.push_back(der_of(rsa_key(bits, e).get()));
  for (const auto& der : keys) CHECK(agree(der));
  // other key types: d2i_PUBKEY's
  Pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
  Pkey pss = rsa_key(1024, 65537, "RSA-PSS");
  REQUIRE(ec);
  REQUIRE(ed);
  REQUIRE(pss);
  CHECK(agree(der_of(ec.get())));
  CHECK(agree(der_of(ed.get())));
  CHECK(agree(der_of(pss.get())));
  CHECK_FALSE(agree(""));
  CHECK_FALSE(agree(std::string(1, '\0')));
  CHECK_FALSE(agree("\x30"));
  CHECK_FALSE(agree(std::string("\x30\x00", 2)));
}

TEST_CASE("a key built on first use by several threads at once is built once") {
  const auto keys = pack_keys(std::string(HDRSCAN_SOURCE_DIR) + "/corpus/indicators/builtin.ind");
  REQUIRE_FALSE(keys.empty());
  const auto key = heuristics::PublicKey::decode(keys[0]);
  REQUIRE(key != nullptr);
  std::vector<EVP_PKEY*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t) threads.emplace_back([&, t] { seen[t] = key->get(); });
  for (auto& t : threads) t.join();
  REQUIRE(seen[0] != nullptr);
  for (EVP_PKEY* k : seen) CHECK(k == seen[0]);
  CHECK(EVP_PKEY_eq(seen[0], reference(keys[0]).get()) == 1);
}

TEST_CASE("truncated, extended and changed keys: accepted and rejected as d2i_PUBKEY does") {
  const auto keys = pack_keys(std::string(HDRSCAN_SOURCE_DIR) + "/corpus/indicators/builtin.ind");
  REQUIRE_FALSE(keys.empty());
  std::vector<std::string> all = {keys[0], der_of(rsa_key(1024, 65537).get())};
  for (const auto& der : all) {
    for (std::size_t len = 0; len < der.size(); ++len) CHECK_FALSE(agree(der.substr(0, len)));
    // d2i_PUBKEY reads one element and ignores what follows it
    CHECK(agree(der + std::string(1, '\0')));
    CHECK(agree(der + "\xff\xff"));
    // every byte of the structure (the first 40 and the last 8) changed four ways; the
    // modulus's bytes changed give another key
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < 40; ++i) at.push_back(i);
    for (std::size_t i = der.size() - 8; i < der.size(); ++i) at.push_back(i);
    at.push_back(der.size() / 2);
    for (std::size_t i : at)
      for (int how = 0; how < 4; ++how) {
        std::string m = der;
        const unsigned char b = static_cast<unsigned char>(m[i]);
        m[i] = static_cast<char>(how == 0 ? b ^ 0x01 : how == 1 ? b ^ 0x80 : how == 2 ? 0x00 : 0xff);
        if (m == der) continue;
        INFO("byte " << i << " way " << how);
        agree(m);
      }
  }
}

TEST_CASE("hand-made encodings at the edges of the plain RSA form") {
  std::mt19937 rng(17);
  const std::string e65537("\x01\x00\x01", 3);
  const std::string n256 = std::string(1, '\0') + random_odd(256, rng);  // 2048 bits, sign octet
  CHECK(agree(spki(n256, e65537)));
  // moduli of 64, 65, 2048 and 2049 bytes, with the top bit set (sign octet) or not
  for (std::size_t bytes : {64u, 65u, 2048u, 2049u}) {
    std::string n = random_odd(bytes, rng);
    CHECK(agree(spki(std::string(1, '\0') + n, e65537)));
    n[0] = 0x7f;  // one bit less, no sign octet
    CHECK(agree(spki(n, e65537)));
  }
  std::string n511 = random_odd(64, rng);
  n511[0] = 0x40;
  CHECK(agree(spki(n511, e65537)));
  // even modulus, exponents 1, 2, 3, even, 8 and 9 bytes, zero, empty, with a sign octet
  std::string even = n256;
  even.back() = static_cast<char>(even.back() & 0xfe);
  agree(spki(even, e65537));
  for (const std::string& e : {std::string("\x01"), std::string("\x02"), std::string("\x03"), std::string("\x01\x00\x00", 3),
                               std::string("\x01\x00\x00\x00\x00\x00\x00\x01", 8), std::string("\x01\x00\x00\x00\x00\x00\x00\x00\x01", 9),
                               std::string("\x00", 1), std::string(), std::string("\x00\x03", 2), std::string("\x00\x81", 2),
                               std::string("\x81"), std::string("\xff\xff", 2)})
    agree(spki(n256, e));
  // modulus without its sign octet (negative), with two, or zero
  agree(spki(n256.substr(1), e65537));
  agree(spki(std::string(1, '\0') + n256, e65537));
  agree(spki(std::string(1, '\0'), e65537));
  agree(spki(std::string(), e65537));
  // a third INTEGER, a missing one, INTEGER tags changed
  {
    const std::string three = tlv(0x30, tlv(0x02, n256) + tlv(0x02, e65537) + tlv(0x02, "\x05"));
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\0') + three)));
    const std::string one = tlv(0x30, tlv(0x02, n256));
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\0') + one)));
    const std::string octets = tlv(0x30, tlv(0x04, n256) + tlv(0x02, e65537));
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\0') + octets)));
  }
  // algorithm: without NULL parameters, RSA-PSS's identifier, sha256WithRSAEncryption's
  agree(spki(n256, e65537, tlv(0x30, std::string("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 11))));
  agree(spki(n256, e65537, tlv(0x30, std::string("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a\x05\x00", 13))));
  agree(spki(n256, e65537, tlv(0x30, std::string("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00", 13))));
  // BIT STRING with unused bits, or with the key not in a SEQUENCE
  {
    const std::string rsa = tlv(0x30, tlv(0x02, n256) + tlv(0x02, e65537));
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\x01') + rsa)));
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\0') + rsa + std::string(1, '\0'))));
    agree(tlv(0x30, kRsaAlg + tlv(0x04, rsa)));
    // something after the BIT STRING inside the outer SEQUENCE
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\0') + rsa) + tlv(0x05, "")));
    // non-minimal lengths: the outer SEQUENCE's 0x82 0x01 0x22 as 0x83 0x00 0x01 0x22, the
    // exponent's 0x03 as 0x81 0x03, and the indefinite form
    const std::string good = spki(n256, e65537);
    REQUIRE(good.substr(0, 4) == std::string("\x30\x82\x01\x22", 4));
    agree(std::string("\x30\x83\x00\x01\x22", 5) + good.substr(4));
    agree(std::string("\x30\x80", 2) + good.substr(4) + std::string(2, '\0'));
    const std::string long_e = tlv(0x30, tlv(0x02, n256) + std::string("\x02\x81\x03", 3) + e65537);
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\0') + long_e)));
    // a short modulus in long form (0x81 below 0x80)
    const std::string n100 = std::string(1, '\0') + random_odd(100, rng);
    const std::string short_long = tlv(0x30, std::string("\x02\x82\x00\x65", 4) + n100 + tlv(0x02, e65537));
    agree(tlv(0x30, kRsaAlg + tlv(0x03, std::string(1, '\0') + short_long)));
  }
}

namespace {

std::string b64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string sign(EVP_PKEY* k, bool sha1, const std::string& data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(ctx != nullptr);
  REQUIRE(EVP_DigestSignInit(ctx, nullptr, sha1 ? EVP_sha1() : EVP_sha256(), nullptr, k) == 1);
  std::size_t n = 0;
  REQUIRE(EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1);
  std::string sig(n, '\0');
  REQUIRE(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1);
  sig.resize(n);
  EVP_MD_CTX_free(ctx);
  return sig;
}

// OpenSSL's own answer, each time from a fresh EVP_DigestVerify context (rsa_verify's way
// before it kept its contexts), PKCS#1 v1.5 padding (DKIM's and ARC's rsa-sha*; an RSA-PSS key
// refuses it, so it verifies nothing): the oracle.
bool reference_verify(EVP_PKEY* k, bool sha1, const std::string& data, const std::string& sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(ctx != nullptr);
  EVP_PKEY_CTX* pctx = nullptr;
  const bool ok = EVP_DigestVerifyInit(ctx, &pctx, sha1 ? EVP_sha1() : EVP_sha256(), nullptr, k) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                   reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

TEST_CASE("rsa_verify with its reused contexts answers as a fresh EVP_DigestVerify, from several threads") {
  // Signing keys; the verifiers get only their public halves (as the pack holds them).
  std::vector<Pkey> signers;
  for (auto [bits, e] : {std::pair{1024u, 65537u}, {2048u, 65537u}, {2048u, 3u}}) signers.push_back(rsa_key(bits, e));
  signers.push_back(rsa_key(1024, 65537, "RSA-PSS"));
  signers.emplace_back(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  std::vector<heuristics::DkimKey> keys;
  std::vector<Pkey> publics;
  for (const auto& s : signers) {
    REQUIRE(s);
    const std::string der = der_of(s.get());
    heuristics::DkimKey k;
    k.name = "s" + std::to_string(keys.size()) + "._domainkey.example.org";
    k.pkey = heuristics::PublicKey::decode(der);
    REQUIRE(k.pkey != nullptr);
    keys.push_back(std::move(k));
    publics.push_back(reference(der));
  }
  // Cases: every key's signature under SHA-1 and SHA-256 of several texts, checked against
  // every key and both digests, as given, with a byte changed, cut short, or of other data.
  struct Case {
    std::size_t key;
    bool sha1;
    std::string data, sig;
  };
  std::vector<Case> cases;
  std::mt19937 rng(17);
  for (std::size_t s = 0; s < signers.size(); ++s)
    for (bool sha1 : {false, true})
      for (int t = 0; t < 3; ++t) {
        std::string data(static_cast<std::size_t>(rng() % 3000), '\0');
        for (auto& c : data) c = static_cast<char>(rng() & 0xff);
        const std::string sig = sign(signers[s].get(), sha1, data);
        std::string changed = sig;
        changed[rng() % changed.size()] ^= static_cast<char>(1 + rng() % 255);
        for (std::size_t k = 0; k < keys.size(); ++k)
          for (bool md : {false, true}) {
            cases.push_back({k, md, data, sig});
            cases.push_back({k, md, data, changed});
            cases.push_back({k, md, data, sig.substr(0, sig.size() - 1)});
            cases.push_back({k, md, data + "x", sig});
          }
      }
  std::vector<char> expected(cases.size());
  std::size_t verified = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    expected[i] = reference_verify(publics[c.key].get(), c.sha1, c.data, c.sig);
    verified += expected[i] != 0;
  }
  // Each plain RSA key's own unchanged signature under its digest verifies, nothing else does
  // (the RSA-PSS key signs with PSS, the EC key with ECDSA).
  CHECK(verified == 3 * 2 * 3);
  auto run = [&](std::size_t from, std::size_t step, std::vector<char>& got) {
    for (int round = 0; round < 3; ++round)  // later rounds take contexts earlier ones left
      for (std::size_t i = from; i < cases.size(); i += step)
        got[i] = heuristics::rsa_verify(keys[cases[i].key], cases[i].sha1, cases[i].data, b64(cases[i].sig));
  };
  std::vector<char> serial(cases.size(), 2);
  run(0, 1, serial);
  CHECK(serial == expected);
  std::vector<std::vector<char>> parallel(4, std::vector<char>(cases.size(), 2));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < parallel.size(); ++t) threads.emplace_back([&, t] { run(0, 1, parallel[t]); });
  for (auto& th : threads) th.join();
  for (const auto& got : parallel) CHECK(got == expected);
}
