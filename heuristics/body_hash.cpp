// body_hash.cpp: see body_hash.hpp.
#include "heuristics/body_hash.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "heuristics/digest.hpp"

namespace hdrscan::heuristics {
namespace {

constexpr std::size_t kChunk = kBodyHashChunk;
// Digests fed by one pass (detect_integrity asks for at most 4: one per signature checked).
constexpr std::size_t kMaxJobs = 4;

// Receives the canonical body in order and gives it, kChunk bytes at a time, to every job's
// digest; each job takes bytes only up to its limit (l=).
class Sink {
 public:
  Sink(BodyHashJob* jobs, std::size_t n) : jobs_(jobs), n_(n) {
    for (std::size_t i = 0; i < n_; ++i) {
      ctx_[i] = EVP_MD_CTX_new();
      if (ctx_[i] && EVP_DigestInit_ex(ctx_[i], sha_digest(jobs_[i].sha1), nullptr) != 1) {
        EVP_MD_CTX_free(ctx_[i]);
        ctx_[i] = nullptr;
      }
      left_[i] = ctx_[i] ? jobs_[i].limit : 0;
      if (left_[i] > 0) ++open_;
    }
  }
  ~Sink() {
    for (std::size_t i = 0; i < n_; ++i) EVP_MD_CTX_free(ctx_[i]);
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // False once every job has all the bytes it hashes: the rest cannot change a digest.
  bool wants_more() const { return open_ > 0; }

  void put(const char* s, std::size_t n) {
    while (n > 0) {
      std::size_t k = std::min(n, kChunk - used_);
      std::memcpy(buf_ + used_, s, k);
      used_ += k;
      s += k;
      n -= k;
      if (used_ == kChunk) flush();
    }
  }
  void put(char c) {
    buf_[used_++] = c;
    if (used_ == kChunk) flush();
  }
  void crlf() {
    put('\r');
    put('\n');
  }
  // Where the next `n` bytes may be written directly (flushing first when they do not fit);
  // nullptr when `n` is more than a chunk. End with done(end of what was written).
  char* room(std::size_t n) {
    if (kChunk - used_ < n) flush();
    return n <= kChunk ? buf_ + used_ : nullptr;
  }
  void done(const char* end) {
    used_ = static_cast<std::size_t>(end - buf_);
    if (used_ == kChunk) flush();
  }

  // Writes every job's digest (digest_len 0 where OpenSSL failed).
  void finish() {
    flush();
    for (std::size_t i = 0; i < n_; ++i) {
      jobs_[i].digest_len = 0;
      unsigned int len = 0;
      if (ctx_[i] && EVP_DigestFinal_ex(ctx_[i], jobs_[i].digest, &len) == 1) jobs_[i].digest_len = len;
    }
  }

 private:
  void flush() {
    for (std::size_t i = 0; i < n_; ++i) {
      std::size_t k = std::min(used_, left_[i]);
      if (k == 0) continue;
      EVP_DigestUpdate(ctx_[i], buf_, k);
      left_[i] -= k;
      if (left_[i] == 0) --open_;
    }
    used_ = 0;
  }

  BodyHashJob* jobs_;
  std::size_t n_;
  EVP_MD_CTX* ctx_[kMaxJobs] = {};
  std::size_t left_[kMaxJobs] = {};
  std::size_t open_ = 0;
  std::size_t used_ = 0;
  char buf_[kChunk];
};

// Writes the relaxed form of s..e (a line without its ending, not ending in SP/HTAB) at `o`:
// each run of SP/HTAB one SP. Returns the end of what was written, never more than e - s bytes
// after `o`. Sixteen bytes are copied at a time and compare masks find the next tab or run of
// blanks (SSE2; the byte loop for the last < 16 bytes and without SSE2).
char* relax_into(char* o, const char* s, const char* e) {
#if defined(__SSE2__)
  const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
  while (e - s >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    // o + 16 <= the line's own room: o - start <= s - line start and s + 16 <= e.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
    // Only a tab or a blank before a blank changes anything: a single SP stays as it is, so
    // prose (a space every few bytes) is copied sixteen bytes at a time, not word by word. A
    // blank as the 16th byte is not the line's last (the line does not end in a blank): the
    // byte after it is read from the line.
    const unsigned tabs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tab)));
    const unsigned blanks = tabs | static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, sp)));
    const unsigned after16 = (blanks >> 15) && (s[16] == ' ' || s[16] == '\t') ? 1u << 15 : 0u;
    const unsigned m = tabs | (blanks & ((blanks >> 1) | after16));
    if (m == 0) {
      s += 16;
      o += 16;
      continue;
    }
    const unsigned k = static_cast<unsigned>(__builtin_ctz(m));  // a run's first blank
    s += k;
    o += k;
    *o++ = ' ';
    do ++s;  // the run ends before e: the line does not end in a blank
    while (*s == ' ' || *s == '\t');
  }
#endif
  while (s < e) {
    const char c = *s++;
    if (c == ' ' || c == '\t') {
      *o++ = ' ';
      while (*s == ' ' || *s == '\t') ++s;
    } else {
      *o++ = c;
    }
  }
  return o;
}

// Writes one line (without its ending, not empty once trailing blanks are dropped) in relaxed
// form through put(): only for lines longer than a chunk.
void put_relaxed(Sink& out, const char* s, const char* e) {
  const std::size_t n = static_cast<std::size_t>(e - s);
  if (!std::memchr(s, ' ', n) && !std::memchr(s, '\t', n)) {  // base64 and most long lines
    out.put(s, n);
    return;
  }
  while (s < e) {
    const char* w = s;
    while (w < e && *w != ' ' && *w != '\t') ++w;
    out.put(s, static_cast<std::size_t>(w - s));
    if (w == e) break;
    while (w < e && (*w == ' ' || *w == '\t')) ++w;
    out.put(' ');
    s = w;
  }
}

// One pass over the body for up to kMaxJobs digests.
void hash_some(std::string_view body, bool relaxed, BodyHashJob* jobs, std::size_t n_jobs) {
  Sink sink(jobs, n_jobs);
  const char* p = body.data();
  const char* const end = p + body.size();
  // Most bodies have no bare CR (files with LF or CRLF line ends): then a line ends at the LF,
  // less a CR just before it, and one memchr per line finds it. Otherwise look for both.
  bool bare_cr = false;
  for (const char* c = p; (c = static_cast<const char*>(std::memchr(c, '\r', static_cast<std::size_t>(end - c))));) {
    if (c + 1 >= end || c[1] != '\n') {
      bare_cr = true;
      break;
    }
    c += 2;
  }
  // Empty lines are held back until a line with content follows: trailing ones are dropped.
  std::size_t held_empty = 0;
  bool any_content = false;
  while (p < end && sink.wants_more()) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = nl ? nl : end;
    const char* line_end;  // a CR before the LF ends the line (CRLF or bare CR)
    if (!bare_cr) {
      line_end = nl && nl > p && nl[-1] == '\r' ? nl - 1 : stop;
    } else {
      const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(stop - p)));
      line_end = cr ? cr : stop;
    }
    const char* e = line_end;
    if (relaxed)  // trailing SP/HTAB are dropped
      while (e > p && (e[-1] == ' ' || e[-1] == '\t')) --e;
    if (e == p) {
      ++held_empty;
    } else {
      for (; held_empty > 0; --held_empty) sink.crlf();
      any_content = true;
      const std::size_t n = static_cast<std::size_t>(e - p);
      if (char* o = sink.room(n + 2)) {  // the line and its CRLF written in place
        if (relaxed) {
          o = relax_into(o, p, e);
        } else {
          std::memcpy(o, p, n);
          o += n;
        }
        o[0] = '\r';
        o[1] = '\n';
        sink.done(o + 2);
      } else {
        if (relaxed) put_relaxed(sink, p, e);
        else sink.put(p, n);
        sink.crlf();
      }
    }
    if (line_end == end) break;  // last line without an ending
    p = line_end + 1;
    if (*line_end == '\r' && p < end && *p == '\n') ++p;
  }
  // An empty body (or one of empty lines only) is one CRLF in simple form, nothing in relaxed.
  if (!any_content && !relaxed) sink.crlf();
  sink.finish();
}

}  // namespace

void hash_body(std::string_view body, bool relaxed, BodyHashJob* jobs, std::size_t n_jobs) {
  for (std::size_t i = 0; i < n_jobs; i += kMaxJobs) hash_some(body, relaxed, jobs + i, std::min(kMaxJobs, n_jobs - i));
}

}  // namespace hdrscan::heuristics
