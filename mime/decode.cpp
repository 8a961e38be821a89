// decode.cpp: hdrscan's own content decoders (base64, quoted-printable, charsets, RFC 2047),
// and the exact base64 of keys and signatures (OpenSSL's, decode_base64_exact).
//
// Purpose: turn transfer-encoded, charset-encoded mail text into valid UTF-8 for the
// detectors, tolerating everything real senders get wrong.
// Why not mimetic's codecs: its base64 decoder indexes a table with unchecked bytes ('|'
// decodes as 'A', stack-notes.md), and it has no charset or RFC 2047 support at all.
// Limits: every decoder is linear in its input; base64/QP stop at `max_out` bytes of output;
// an RFC 2047 encoded-word is only recognised within kMaxEncodedWord bytes of its "=?".
// Charset policy (to_utf8): names are normalised and aliased (utf8, win-1252, cp-1252,
// ks_c_5601-1987 -> CP949, gb2312/gbk -> GB18030, iso-8859-8-i -> ISO-8859-8, shift_jis ->
// CP932 ...). iso-8859-1, us-ascii with 8-bit bytes and unknown or unsupported charsets are
// read as windows-1252 unless the bytes already are valid UTF-8 (what mail clients and
// browsers do; windows-1252 maps every byte, so nothing is lost, only possibly mis-shown).
// Invalid sequences become U+FFFD one byte at a time (iconv's //IGNORE would drop them
// silently). iconv descriptors are cached per thread (bounded), so converting is cheap.
// gconv modules stay loaded for the life of the process (issue 22): glibc dlcloses a gconv
// module some iconv_close calls after its last descriptor is closed, so threads that exit
// together (scan workers, milter threads: their thread_local caches close at thread exit)
// ran ld.so's unloading at once, serialised by a lock of ld.so that ThreadSanitizer cannot
// see. Every iconv_open/iconv_close here takes one process-wide mutex, and a shared object
// that an iconv_open loaded is re-opened RTLD_NOLOAD|RTLD_NODELETE, so no gconv module is
// ever unloaded, by any thread (tests/unit/mime_gconv_test.cpp). Bounded by the gconv
// modules installed (about 250 on Debian 12).
// Diagnostics: decode_base64/decode_quoted_printable return false when they had to repair
// the input; the converters never fail, U+FFFD marks what could not be read.
#include "mime/decode.hpp"
#include "mime/text.hpp"

#include <dlfcn.h>
#include <iconv.h>
#include <link.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hdrscan::mime {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::size_t kMaxEncodedWord = 1024;                // "=?cs?e?text?=" scan window
constexpr std::size_t kMaxCharsetName = 64;

constexpr std::array<std::int8_t, 256> make_base64_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kBase64 = make_base64_table();

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // lower case is not RFC 2045, but common
  return -1;
}

bool is_ascii_clean(std::string_view s) {
  // eight bytes at a time: no byte >= 0x80 and no zero byte
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    if ((v & kHigh) || ((v - kOnes) & ~v & kHigh)) return false;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) >= 0x80 || s[i] == 0) return false;
  return true;
}

void append_sanitized_utf8(std::string& out, std::string_view in);  // below sanitize_utf8

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid (overlong, surrogate,
// > U+10FFFF, truncated). NUL counts as invalid so callers replace it.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const std::size_t left = s.size() - i;
  const unsigned char c = p[0];
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k) { return k < left && (p[k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0; // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0; // > U+10FFFF
    return 4;
  }
  return 0;
}

// The first index >= j of a byte >= 0x80 or a NUL in `in` (or its size): 16 bytes at a time
// with SSE2 (issue 17: a byte loop was most of sanitize_utf8's cost, on every printed string
// and every header value with an 8-bit byte), a byte loop for the tail and without SSE2.
std::size_t ascii_run_end(std::string_view in, std::size_t j) {
  const std::size_t n = in.size();
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; j + 16 <= n; j += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + j));
    // high bit of each byte: set for bytes >= 0x80, and by the compare for NUL
    const int mask = _mm_movemask_epi8(_mm_or_si128(x, _mm_cmpeq_epi8(x, zero)));
    if (mask != 0) return j + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (j < n && static_cast<unsigned char>(in[j]) < 0x80 && in[j] != 0) ++j;
  return j;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = ascii_run_end(s, 0); i < s.size(); i = ascii_run_end(s, i)) {
    const auto n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

// A charset name lower-cased, without quotes and blanks, at most kMaxCharsetName bytes, written
// into `buf` (no allocation: decode_rfc2047 compares the names of adjacent encoded-words).
std::string_view normalise_charset_into(std::string_view cs, char (&buf)[kMaxCharsetName]) {
  std::size_t n = 0;
  for (char c : cs) {
    if (n >= kMaxCharsetName) break;
    if (c == '"' || c == '\'' || c == ' ' || c == '\t') continue;
    buf[n++] = text::to_lower(c);
  }
  return {buf, n};
}

std::string normalise_charset(std::string_view cs) {
  char buf[kMaxCharsetName];
  return std::string(normalise_charset_into(cs, buf));
}

// Maps a declared charset to an iconv name; "" means "UTF-8 or windows-1252 fallback".
std::string iconv_name_for(const std::string& cs) {
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"utf8", "UTF-8"},         {"utf-8", "UTF-8"},          {"us-ascii", ""},
      {"ascii", ""},             {"ansi_x3.4-1968", ""},      {"iso-8859-1", ""},
      {"iso8859-1", ""},         {"iso_8859-1", ""},          {"latin1", ""},
      {"latin-1", ""},           {"l1", ""},                  {"windows-1252", ""},
      {"win-1252", ""},          {"cp1252", ""},              {"cp-1252", ""},
      {"x-unknown", ""},         {"unknown-8bit", ""},        {"unknown", ""},
      {"default", ""},           {"x-user-defined", ""},      {"ks_c_5601-1987", "CP949"},
      {"ks_c_5601", "CP949"},    {"ksc5601", "CP949"},        {"euc-kr", "CP949"},
      {"gb2312", "GB18030"},     {"gbk", "GB18030"},          {"x-gbk", "GB18030"},
      {"cp936", "GB18030"},      {"gb_2312-80", "GB18030"},   {"iso-8859-8-i", "ISO-8859-8"},
      {"iso-8859-8-e", "ISO-8859-8"}, {"iso-8859-6-i", "ISO-8859-6"},
      {"shift_jis", "CP932"},    {"shift-jis", "CP932"},      {"sjis", "CP932"},
      {"x-sjis", "CP932"},       {"windows-31j", "CP932"},    {"ms_kanji", "CP932"},
      {"big5", "BIG5-HKSCS"},    {"x-mac-roman", "MACINTOSH"}, {"macintosh", "MACINTOSH"},
      {"tis-620", "CP874"},      {"windows-874", "CP874"},    {"utf-7", "UTF-7"},
      {"unicode-1-1-utf-7", "UTF-7"}, {"unicode", "UTF-16"},   {"ucs-2", "UTF-16"},
  };
  for (const auto& [alias, name] : kAliases)
    if (cs == alias) return std::string(name);
  if (cs.rfind("win-", 0) == 0) return "WINDOWS-" + cs.substr(4);
  if (cs.rfind("cp-", 0) == 0) return "CP" + cs.substr(3);
  return cs;  // let iconv try the name as written
}

// Process-wide gate for iconv_open/iconv_close, which pins the gconv modules they load
// (head comment). iconv() itself needs no lock: a descriptor is used by one thread only.
class GconvGate {
 public:
  static GconvGate& instance() {
    // Never destroyed: thread_local caches close their descriptors here at thread (and
    // process) exit, after static destructors may have run.
    static GconvGate* gate = new GconvGate;
    return *gate;
  }
  // To UTF-8 from `name`; (iconv_t)-1 when iconv does not know the charset.
  iconv_t open(const std::string& name) {
    std::lock_guard lock(mu_);
    const auto loads_before = loads();
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (loads() != loads_before) pin_new_objects();  // a failed open may load modules too
    return cd;
  }
  void close(iconv_t cd) {
    if (cd == none()) return;
    std::lock_guard lock(mu_);
    iconv_close(cd);
  }
  static iconv_t none() { return reinterpret_cast<iconv_t>(-1); }  // iconv_open's failure

 private:
  // ld.so's count of objects loaded so far (dlpi_adds), cheap to read.
  static unsigned long long loads() {
    unsigned long long adds = 0;
    dl_iterate_phdr([](dl_phdr_info* info, std::size_t, void* out) {
      *static_cast<unsigned long long*>(out) = info->dlpi_adds;
      return 1;  // the first object carries the counter: stop
    }, &adds);
    return adds;
  }
  static std::vector<std::string> loaded_objects() {
    std::vector<std::string> names;
    dl_iterate_phdr([](dl_phdr_info* info, std::size_t, void* out) {
      if (info->dlpi_name != nullptr && info->dlpi_name[0] == '/')
        static_cast<std::vector<std::string>*>(out)->emplace_back(info->dlpi_name);
      return 0;
    }, &names);
    return names;
  }
  GconvGate() : known_(loaded_objects()) {}
  // Re-opens RTLD_NOLOAD|RTLD_NODELETE every object loaded since the last look: the gconv
  // modules the iconv_open under `mu_` just loaded (and, harmlessly, anything another thread
  // loaded meanwhile). The handles are kept on purpose: they keep the modules loaded.
  void pin_new_objects() {
    // dlopen only after dl_iterate_phdr has returned: it holds ld.so's lock.
    for (auto& n : loaded_objects()) {
      if (std::find(known_.begin(), known_.end(), n) != known_.end()) continue;
      dlopen(n.c_str(), RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
      known_.push_back(std::move(n));
    }
  }

  std::mutex mu_;
  // Objects loaded before the first iconv_open, or pinned since; bounded by the shared
  // objects installed.
  std::vector<std::string> known_;
};

// Per-thread cache of open iconv descriptors (to UTF-8), bounded. Opening and closing go
// through GconvGate; the destructor runs at thread exit.
class IconvCache {
 public:
  ~IconvCache() {
    for (auto& e : entries_) GconvGate::instance().close(e.second);
  }
  // Returns (iconv_t)-1 when iconv does not know the charset.
  iconv_t get(const std::string& name) {
    for (auto& e : entries_)
      if (e.first == name) return e.second;
    iconv_t cd = GconvGate::instance().open(name);
    if (entries_.size() >= kMaxEntries) {
      GconvGate::instance().close(entries_.front().second);
      entries_.erase(entries_.begin());
    }
    entries_.emplace_back(name, cd);
    return cd;
  }

 private:
  static constexpr std::size_t kMaxEntries = 24;
  std::vector<std::pair<std::string, iconv_t>> entries_;
};

IconvCache& iconv_cache() {
  thread_local IconvCache cache;
  return cache;
}

std::string cp1252_to_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 4);
  for (std::size_t i = 0; i < in.size();) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c != 0 && c < 0x80) {  // an ASCII run, appended at once
      std::size_t j = i + 1;
      while (j < in.size() && in[j] != 0 && static_cast<unsigned char>(in[j]) < 0x80) ++j;
      out.append(in.data() + i, j - i);
      i = j;
      continue;
    }
    if (c == 0) out.append(kReplacement);
    else append_utf8(out, cp1252_char(c));
    ++i;
  }
  return out;
}

std::string iconv_to_utf8(std::string_view in, iconv_t cd) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
  std::string out;
  std::string buffer(in.size() * 2 + 64, '\0');
  char* src = const_cast<char*>(in.data());  // iconv's API is not const-correct
  std::size_t src_left = in.size();
  while (src_left > 0) {
    char* dst = buffer.data();
    std::size_t dst_left = buffer.size();
    const std::size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
    out.append(buffer.data(), buffer.size() - dst_left);
    if (rc != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ (invalid) or EINVAL (truncated at the end): mark it, skip one byte, go on.
    out.append(kReplacement);
    ++src;
    --src_left;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  // Flush a pending shift sequence (stateful charsets such as ISO-2022-JP).
  char* dst = buffer.data();
  std::size_t dst_left = buffer.size();
  iconv(cd, nullptr, nullptr, &dst, &dst_left);
  out.append(buffer.data(), buffer.size() - dst_left);
  if (out.find('\0') != std::string::npos) return sanitize_utf8(out);
  return out;
}

}  // namespace

bool decode_base64(std::string_view in, std::string& out, std::size_t max_out) {
  bool clean = true;
  std::uint32_t bits = 0;
  int sextets = 0;
  // The output is written through a pointer into `out`, grown once to the most it can hold
  // (3 bytes per 4 input bytes, capped at max_out) and cut to what was written at the end
  // (issue 17: a push_back per output byte was most of the cost on base64 bodies).
  const std::size_t base = out.size();
  const std::size_t room = max_out > base ? max_out - base : 0;  // bytes that may be written
  const std::size_t limit = std::min(room, in.size() / 4 * 3 + 3);
  out.resize(base + limit);
  char* o = out.data() + base;
  std::size_t w = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    if (sextets == 0) {
      // Whole quanta of four alphabet bytes, three output bytes each, without a branch per
      // byte: an invalid byte (-1, all bits set) in any of the four shows in their OR.
      while (i + 4 <= n && w + 3 <= limit) {
        const std::int32_t a = kBase64[p[i]], b = kBase64[p[i + 1]], c = kBase64[p[i + 2]], d = kBase64[p[i + 3]];
        if ((a | b | c | d) < 0) break;
        const auto v = static_cast<std::uint32_t>(a << 18 | b << 12 | c << 6 | d);
        o[w] = static_cast<char>(v >> 16);
        o[w + 1] = static_cast<char>(v >> 8);
        o[w + 2] = static_cast<char>(v);
        w += 3;
        i += 4;
      }
      if (i >= n) break;
    }
    // One byte as the byte-at-a-time decoder read it: line breaks, padding, junk, a quantum
    // split by a line break, the input's last bytes and the output cap.
    const unsigned char c = p[i++];
    const int v = kBase64[c];
    if (v < 0) {
      if (c == '=') {
        // Padding ends a quantum; anything after it (a concatenated second blob) goes on.
        if (sextets == 1) clean = false;
        bits = 0;
        sextets = 0;
      } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
        clean = false;
      }
      continue;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++sextets == 1) continue;
    if (w >= limit) {  // limit < room only when the input cannot fill it: this is max_out
      out.resize(base + w);
      return clean;
    }
    if (sextets == 2) {
      o[w++] = static_cast<char>((bits >> 4) & 0xFF);
    } else if (sextets == 3) {
      o[w++] = static_cast<char>((bits >> 2) & 0xFF);
    } else {
      o[w++] = static_cast<char>(bits & 0xFF);
      bits = 0;
      sextets = 0;
    }
  }
  out.resize(base + w);
  if (sextets != 0) clean = false;  // missing padding (a lone sextet is lost entirely)
  return clean;
}

std::optional<std::string> decode_base64_exact(std::string_view in) {
  std::string clean;
  clean.reserve(in.size());
  for (char c : in)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') clean.push_back(c);
  std::string out(clean.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as decoded zero bytes (3 per quantum): drop them.
  std::size_t pad = 0;
  while (pad < 2 && pad < clean.size() && clean[clean.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

namespace {
// The first index >= i of byte a, b or c in `in` (or its size), eight bytes at a time: the
// exact zero-byte test of a 64-bit word says whether a word holds one. Quoted-printable
// bodies stop at '=', CR, LF; RFC 2047 Q text at '_' and '=' (pass one of them twice).
std::size_t run_end(std::string_view in, std::size_t i, char a, char b, char c) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto has_zero = [](std::uint64_t x) { return ((x - kOnes) & ~x & kHigh) != 0; };
  const std::size_t n = in.size();
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, in.data() + i, 8);
    if (has_zero(x ^ (kOnes * static_cast<unsigned char>(a))) || has_zero(x ^ (kOnes * static_cast<unsigned char>(b))) ||
        has_zero(x ^ (kOnes * static_cast<unsigned char>(c))))
      break;
  }
  while (i < n && in[i] != a && in[i] != b && in[i] != c) ++i;
  return i;
}
}  // namespace

bool decode_quoted_printable(std::string_view in, std::string& out, std::size_t max_out) {
  bool clean = true;
  out.reserve(out.size() + std::min(max_out, in.size()));
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n && out.size() < max_out) {
    const char c = in[i];
    if (c == '=') {
      // Soft line break: '=' then optional transport whitespace then EOL (or end of input).
      std::size_t j = i + 1;
      while (j < n && (in[j] == ' ' || in[j] == '\t')) ++j;
      if (j >= n) { i = j; break; }
      if (in[j] == '\n') { i = j + 1; continue; }
      if (in[j] == '\r') { i = j + 1; if (i < n && in[i] == '\n') ++i; continue; }
      if (i + 2 < n) {
        const int hi = hex_value(static_cast<unsigned char>(in[i + 1]));
        const int lo = hex_value(static_cast<unsigned char>(in[i + 2]));
        if (hi >= 0 && lo >= 0) {
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 3;
          continue;
        }
      }
      clean = false;  // invalid escape: keep the '=' literally
      out.push_back('=');
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      out.push_back(c);
      ++i;
      continue;
    }
    // The text up to the next '=', CR, LF or the end, appended at once (issue 17: one
    // push_back per byte was 3% of the instructions on real mail), up to max_out. Whitespace
    // ending a line was added in transport (RFC 2045 6.7 (3)): dropped; before '=' it is kept.
    const std::size_t j = run_end(in, i, '=', '\r', '\n');
    std::size_t k = j;
    if (j >= n || in[j] != '=')
      while (k > i && (in[k - 1] == ' ' || in[k - 1] == '\t')) --k;
    const std::size_t len = std::min(k - i, max_out - out.size());
    out.append(in.data() + i, len);
    i = len < k - i ? i + len : j;
  }
  return clean;
}

std::string sanitize_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  append_sanitized_utf8(out, in);
  return out;
}

namespace {

// sanitize_utf8(in) appended to `out`, without a string of its own.
void append_sanitized_utf8(std::string& out, std::string_view in) {
  std::size_t i = 0;
  while (i < in.size()) {
    // Copy the longest ASCII run at once (the common case).
    const std::size_t j = ascii_run_end(in, i);
    out.append(in.data() + i, j - i);
    i = j;
    if (i >= in.size()) break;
    const auto len = utf8_sequence_length(in, i);
    if (len == 0) {
      out.append(kReplacement);
      ++i;
    } else {
      out.append(in.data() + i, len);
      i += len;
    }
  }
}

// to_utf8's one body. With `unchanged` given, an input that needs no conversion is not
// copied: *unchanged is set and "" returned (a text part's decoded bytes, mostly ASCII: one
// copy fewer per part).
std::string to_utf8_impl(std::string_view in, std::string_view charset, bool* unchanged) {
  auto same = [&] {
    if (!unchanged) return std::string(in);
    *unchanged = true;
    return std::string();
  };
  const std::string cs = normalise_charset(charset);
  // 7-bit stateful or wide charsets must go through iconv even when every byte is ASCII.
  const bool seven_bit_encoded = cs.rfind("iso-2022", 0) == 0 || cs.rfind("utf-7", 0) == 0 ||
                                 cs.rfind("unicode", 0) == 0 || cs.rfind("utf-16", 0) == 0 ||
                                 cs.rfind("utf-32", 0) == 0 || cs.rfind("ucs", 0) == 0 ||
                                 cs.rfind("hz", 0) == 0;
  if (!seven_bit_encoded && is_ascii_clean(in)) return same();
  const std::string name = iconv_name_for(cs);
  if (name == "UTF-8") return sanitize_utf8(in);
  if (name.empty()) return is_valid_utf8(in) ? same() : cp1252_to_utf8(in);
  iconv_t cd = iconv_cache().get(name);
  if (cd == reinterpret_cast<iconv_t>(-1))  // unknown to iconv: same fallback as above
    return is_valid_utf8(in) ? same() : cp1252_to_utf8(in);
  // glibc takes odd spellings ("utf%8") for its own UTF-8, whose decoder passes sequences
  // beyond U+10FFFF (F5..F7 leads) through: re-check what iconv gave.
  std::string out = iconv_to_utf8(in, cd);
  return is_valid_utf8(out) ? out : sanitize_utf8(out);
}

}  // namespace

std::string to_utf8(std::string_view in, std::string_view charset) {
  return to_utf8_impl(in, charset, nullptr);
}

void to_utf8_in_place(std::string& text, std::string_view charset) {
  bool unchanged = false;
  std::string out = to_utf8_impl(text, charset, &unchanged);
  if (!unchanged) text = std::move(out);
}

namespace {

// An encoded-word's parts, found without decoding it: decode_rfc2047 decodes the text straight
// onto the bytes pending conversion (issue 17: a string per word for its charset and one for
// its bytes, both copied again, were most of decode_rfc2047's cost on Microsoft 365 mail,
// whose X-Microsoft-Antispam-Message-Info and MessageData headers are hundreds of
// =?us-ascii?Q?...?= words).
struct EncodedWord {
  std::size_t end = 0;         // one past "?="
  std::string_view charset;    // without an RFC 2231 "*language" suffix
  char encoding = 'q';         // 'b' or 'q' (lower case)
  std::string_view text;       // between "?E?" and "?="
};

// Parses "=?charset?E?text?=" at value[pos]; false when it is not a well-formed word.
bool parse_encoded_word(std::string_view value, std::size_t pos, EncodedWord& word) {
  const std::size_t limit = std::min(value.size(), pos + kMaxEncodedWord);
  std::size_t q1 = pos + 2;
  std::size_t p = q1;
  while (p < limit && value[p] != '?' && value[p] != ' ' && value[p] != '\t' && value[p] != '\r' && value[p] != '\n') ++p;
  if (p >= limit || value[p] != '?' || p == q1) return false;
  std::string_view cs = value.substr(q1, p - q1);
  if (const auto star = cs.find('*'); star != std::string_view::npos) cs = cs.substr(0, star);
  if (p + 2 >= limit || value[p + 2] != '?') return false;
  const char enc = text::to_lower(value[p + 1]);
  if (enc != 'b' && enc != 'q') return false;
  const std::size_t text_begin = p + 3;
  // Text runs to the first "?=" that ends before `limit`; it never contains line breaks.
  // Spaces inside are tolerated (broken senders write them; RFC 2047 forbids them). memchr
  // for each '?', then one look for CR and LF in the text.
  const char* const data = value.data();
  std::size_t t = text_begin;
  for (;;) {
    if (t + 1 >= limit) return false;
    const void* q = std::memchr(data + t, '?', limit - 1 - t);
    if (q == nullptr) return false;
    t = static_cast<std::size_t>(static_cast<const char*>(q) - data);
    if (data[t + 1] == '=') break;
    ++t;
  }
  if (std::memchr(data + text_begin, '\r', t - text_begin) != nullptr ||
      std::memchr(data + text_begin, '\n', t - text_begin) != nullptr)
    return false;
  word.charset = cs;
  word.encoding = enc;
  word.text = value.substr(text_begin, t - text_begin);
  word.end = t + 2;
  return true;
}


// Appends the word's decoded bytes (still in its charset) to `out`. Q: '_' is a space, "=XX"
// a byte, any other '=' itself; the runs between are appended at once.
void decode_word_text(const EncodedWord& word, std::string& out) {
  const std::string_view text = word.text;
  if (word.encoding == 'b') {
    decode_base64(text, out);
    return;
  }
  std::size_t k = 0;
  while (k < text.size()) {
    const std::size_t j = run_end(text, k, '_', '=', '=');
    out.append(text.data() + k, j - k);
    k = j;
    if (k >= text.size()) break;
    if (text[k] == '_') {
      out.push_back(' ');
    } else if (k + 2 < text.size()) {  // '='
      const int hi = hex_value(static_cast<unsigned char>(text[k + 1]));
      const int lo = hex_value(static_cast<unsigned char>(text[k + 2]));
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        k += 2;
      } else {
        out.push_back('=');
      }
    } else {
      out.push_back('=');
    }
    ++k;
  }
}

bool only_blanks(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

}  // namespace

std::string decode_rfc2047(std::string_view value) {
  if (value.find("=?") == std::string_view::npos) return sanitize_utf8(value);
  std::string out;
  out.reserve(value.size());
  // Decoded bytes of adjacent words in one charset, joined before conversion (a character may
  // span two words). Per thread, reused: no allocation per value (it keeps the capacity of the
  // longest value decoded on the thread, at most Limits::max_header_line bytes).
  thread_local std::string pending_bytes;
  pending_bytes.clear();
  std::string_view pending_charset;  // views `value`
  auto flush = [&]() {
    if (!pending_bytes.empty()) {
      bool unchanged = false;
      std::string converted = to_utf8_impl(pending_bytes, pending_charset, &unchanged);
      out += unchanged ? std::string_view(pending_bytes) : std::string_view(converted);
    }
    pending_bytes.clear();
  };
  std::size_t i = 0;
  std::size_t plain_begin = 0;
  bool last_was_word = false;
  EncodedWord word;
  char word_cs[kMaxCharsetName], pending_cs[kMaxCharsetName];
  while (i < value.size()) {
    const std::size_t at = value.find("=?", i);
    if (at == std::string_view::npos) break;
    if (!parse_encoded_word(value, at, word)) {
      i = at + 2;
      continue;
    }
    const std::string_view between = value.substr(plain_begin, at - plain_begin);
    if (!(last_was_word && only_blanks(between))) {
      flush();
      append_sanitized_utf8(out, between);
    } else if (normalise_charset_into(word.charset, word_cs) != normalise_charset_into(pending_charset, pending_cs)) {
      flush();
    }
    if (pending_bytes.empty()) pending_charset = word.charset;
    decode_word_text(word, pending_bytes);
    last_was_word = true;
    i = plain_begin = word.end;
  }
  flush();
  append_sanitized_utf8(out, value.substr(plain_begin));
  return out;
}

}  // namespace hdrscan::mime
