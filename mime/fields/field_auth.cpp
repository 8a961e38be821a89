// field_auth.cpp: Authentication-Results and ARC-Authentication-Results (RFC 8601, RFC 8617)
// and Received-SPF (RFC 7208 9.1, plus the policyd-spf and SpamAssassin shapes).
// Authentication-Results: "[i=N;] authserv-id [version]; method[/v]=result [(comment)]
// [reason=x] ptype.prop=value ...; ...". Microsoft's X-MS-Exchange-Authentication-Results and
// the Authentication-Results EOP stamps have no authserv-id ("spf=fail (...) smtp.mailfrom=x;
// dkim=none ...;compauth=fail reason=001"): a statement is taken as the authserv-id only when
// its first word is not a method=result pair. "none" statements (no results) are skipped.
// Limits: reads at most text::kMaxFieldInput bytes; at most kMaxResults results of at most
// kMaxProps properties each; a comment left open runs to the end of the value.
// Diagnostics: ok=false with reason "no authserv-id and no method=result" (Authentication-
// Results) or "no result word" / "unknown result ..." (Received-SPF).
#include <forward_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mime/text.hpp"
#include "mime/fields/fields.hpp"

namespace hdrscan::mime {
namespace {

using text::is_space;

constexpr std::size_t kMaxResults = 64;
constexpr std::size_t kMaxProps = 64;
constexpr std::size_t kMaxTokens = 1024;

struct Token {
  bool comment = false;
  // A word with its quoted sections unquoted, or a comment's inner text (escapes resolved,
  // folding read as one space, trimmed): a view of the header value itself when that is what
  // it reads as (most tokens), else of Lexed::rewritten.
  std::string_view text;
};
using Statement = std::span<const Token>;
// The statements' tokens in one vector, each statement a span of it (issue 17: the lexer made
// 12.8% of a scan's allocations on the Microsoft 365 files, most of them a vector per statement
// and a deque allocated even when nothing was rewritten; one vector each saves 8.6%).
struct Lexed {
  std::vector<Token> tokens;
  std::vector<std::size_t> ends;  // one past each statement's last token; no empty statement
  std::forward_list<std::string> rewritten;  // the tokens that differ from their bytes (never moved)
  std::size_t size() const { return ends.size(); }
  Statement statement(std::size_t k) const {
    const std::size_t from = k == 0 ? 0 : ends[k - 1];
    return {tokens.data() + from, ends[k] - from};
  }
};

// Whether a comment's inner bytes read as themselves: no escape, no folding or tab, no run of
// spaces, nothing to trim.
bool plain_comment(std::string_view raw) {
  if (raw.empty()) return true;
  if (raw.front() == ' ' || raw.back() == ' ') return false;
  for (std::size_t k = 0; k < raw.size(); ++k) {
    const char c = raw[k];
    if (c == '\\' || (c != ' ' && is_space(c)) || (c == ' ' && raw[k + 1] == ' ')) return false;
  }
  return true;
}

// Splits a header value into ';'-separated statements of words and comments. Quoted strings
// are read as part of the word they appear in (header.b="abc" -> header.b=abc), so a ';' or
// '(' inside quotes does not split. The tokens are views (issue 17: a string per token, built
// byte by byte; 8,472 of a scan's 265,467 allocations on the Microsoft 365 files); only a
// token that reads differently from its bytes is copied.
Lexed lex_statements(std::string_view value) {
  // A word runs to a blank, ';' or a parenthesis (any of them inside quotes included).
  auto in_word = [&](std::size_t k) {
    const char c = value[k];
    return !is_space(c) && c != ';' && c != '(' && c != ')';
  };
  Lexed lexed;
  auto& tokens = lexed.tokens;
  tokens.reserve(32);  // the m365 files' values: at most 19 (ARC-Authentication-Results, median 14)
  auto end_statement = [&] {
    if (tokens.size() > (lexed.ends.empty() ? 0 : lexed.ends.back())) lexed.ends.push_back(tokens.size());
  };
  std::size_t ntokens = 0;
  std::size_t i = 0;
  while (i < value.size() && ntokens < kMaxTokens) {
    const char c = value[i];
    if (is_space(c) || c == ')') {
      ++i;
    } else if (c == ';') {
      end_statement();
      ++i;
    } else if (c == '(') {
      int depth = 1;
      const std::size_t from = ++i;
      std::size_t to = value.size();  // one past the inner text
      bool escaped = false;
      while (i < value.size()) {
        const char d = value[i];
        if (d == '\\' && i + 1 < value.size()) {
          escaped = true;
          i += 2;
          continue;
        }
        if (d == '(') ++depth;
        if (d == ')' && --depth == 0) {
          to = i++;
          break;
        }
        ++i;
      }
      const std::string_view raw = value.substr(from, to - from);
      if (!escaped && plain_comment(raw)) {
        tokens.push_back({true, raw});
      } else {
        std::string inner;
        for (std::size_t k = 0; k < raw.size(); ++k) {
          const char d = raw[k];
          if (d == '\\' && from + k + 1 < value.size()) {
            inner += value[from + k + 1];  // an escape's byte, even past a cut comment's end
            ++k;
            continue;
          }
          if (!is_space(d))
            inner += d;
          else if (!inner.empty() && inner.back() != ' ')
            inner += ' ';  // FWS reads as one space
        }
        tokens.push_back({true, lexed.rewritten.emplace_front(text::trim(inner))});
      }
      ++ntokens;
    } else {
      const std::size_t from = i;
      bool quoted = false;
      for (; i < value.size() && in_word(i); ++i) quoted = quoted || value[i] == '"';
      if (!quoted) {
        tokens.push_back({false, value.substr(from, i - from)});
      } else {  // read again with its quoted sections unquoted
        std::string word;
        i = from;
        while (i < value.size() && in_word(i)) {
          if (value[i] == '"') {
            ++i;
            while (i < value.size() && value[i] != '"') {
              if (value[i] == '\\' && i + 1 < value.size()) ++i;
              word += value[i++];
            }
            if (i < value.size()) ++i;  // closing quote
            continue;
          }
          word += value[i++];
        }
        tokens.push_back({false, lexed.rewritten.emplace_front(std::move(word))});
      }
      ++ntokens;
    }
  }
  end_statement();
  return lexed;
}

// "method=result" or "method/1=result": the method name when this word is one.
bool split_pair(std::string_view word, std::string_view& key, std::string_view& val) {
  const auto eq = word.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  key = word.substr(0, eq);
  val = word.substr(eq + 1);
  return true;
}

bool is_method_name(std::string_view key) {
  if (key.empty() || !text::is_alpha(key.front())) return false;
  for (char c : key)
    if (!(text::is_alpha(c) || text::is_digit(c) || c == '-' || c == '_' || c == '/')) return false;
  return true;
}

// Reads "method=result (comment) reason=x ptype.prop=value ..." starting at token `first`.
void read_method(Statement st, std::size_t first, AuthenticationResults& out) {
  std::string_view key, val;
  if (first >= st.size() || st[first].comment || !split_pair(st[first].text, key, val)) return;
  if (!is_method_name(key)) {
    // "header.d=x" after a stray ';' (Microsoft folds "header.d=none;dmarc=..."): a property
    // of the previous result.
    if (!out.results.empty() && out.results.back().props.size() < kMaxProps)
      out.results.back().props.emplace_back(text::lower(key), std::string(val));
    for (std::size_t t = first + 1; t < st.size(); ++t)
      if (!st[t].comment && split_pair(st[t].text, key, val) && !out.results.empty() &&
          out.results.back().props.size() < kMaxProps)
        out.results.back().props.emplace_back(text::lower(key), std::string(val));
    return;
  }
  if (out.results.size() >= kMaxResults) return;
  AuthMethodResult r;
  if (auto slash = key.find('/'); slash != std::string_view::npos) key = key.substr(0, slash);
  r.method = text::lower(key);
  r.result = text::lower(val);
  std::string first_comment;
  for (std::size_t t = first + 1; t < st.size(); ++t) {
    const auto& tok = st[t];
    if (tok.comment) {
      if (first_comment.empty() && t == first + 1) first_comment = tok.text;
      continue;
    }
    if (!split_pair(tok.text, key, val)) continue;
    if (text::iequals(key, "reason")) {
      r.reason = std::string(val);
      continue;
    }
    if (r.props.size() < kMaxProps) r.props.emplace_back(text::lower(key), std::string(val));
  }
  if (r.reason.empty()) r.reason = std::move(first_comment);
  out.results.push_back(std::move(r));
}

}  // namespace

std::string AuthMethodResult::prop(std::string_view key) const {
  for (const auto& [k, v] : props)
    if (text::iequals(k, key)) return v;
  return {};
}

const AuthMethodResult* AuthenticationResults::find(std::string_view method) const {
  for (const auto& r : results)
    if (text::iequals(r.method, method)) return &r;
  return nullptr;
}

AuthenticationResults parse_authentication_results(std::string_view value) {
  AuthenticationResults out;
  const Lexed lexed = lex_statements(text::bounded(value));
  bool id_possible = true;  // the authserv-id can only be the first non-instance statement
  for (std::size_t s = 0; s < lexed.size(); ++s) {
    const Statement st = lexed.statement(s);
    std::size_t first = 0;
    while (first < st.size() && st[first].comment) ++first;
    if (first >= st.size()) continue;
    std::string_view word = st[first].text;
    std::string_view key, val;
    const bool pair = split_pair(word, key, val);
    if (pair && text::iequals(key, "i") && !out.instance && out.results.empty() &&
        out.authserv_id.empty()) {
      // ARC instances run 1..50 (RFC 8617 4.2.1); four digits is already generous.
      int n = 0;
      bool digits = !val.empty() && val.size() <= 4;
      for (std::size_t k = 0; digits && k < val.size(); ++k) {
        if (!text::is_digit(val[k]))
          digits = false;
        else
          n = n * 10 + (val[k] - '0');
      }
      if (digits) out.instance = n;
      continue;
    }
    if (id_possible && !pair) {
      id_possible = false;
      out.authserv_id = std::string(word);
      ++first;
      // An optional version number follows the authserv-id ("mx.microsoft.com 1").
      while (first < st.size() &&
             (st[first].comment || (!st[first].text.empty() && text::is_digit(st[first].text[0]) &&
                                    st[first].text.find('=') == std::string::npos)))
        ++first;
      if (first < st.size()) read_method(st, first, out);  // a missing ';' after the id
      continue;
    }
    id_possible = false;
    if (!pair) continue;  // "none", or garbage
    read_method(st, first, out);
  }
  if (out.authserv_id.empty() && out.results.empty()) {
    out.reason = "no authserv-id and no method=result";
    return out;
  }
  out.ok = true;
  return out;
}

std::string ReceivedSpf::prop(std::string_view key) const {
  for (const auto& [k, v] : props)
    if (text::iequals(k, key)) return v;
  return {};
}

ReceivedSpf parse_received_spf(std::string_view value) {
  ReceivedSpf out;
  const Lexed lexed = lex_statements(text::bounded(value));
  bool have_result = false;
  bool seen_word = false;  // the result must be the value's first word
  for (std::size_t s = 0; s < lexed.size(); ++s) {
    const Statement st = lexed.statement(s);
    for (std::size_t t = 0; t < st.size(); ++t) {
      const auto& tok = st[t];
      if (tok.comment) {
        if (have_result && out.comment.empty() && out.props.empty()) out.comment = tok.text;
        continue;
      }
      std::string_view key, val;
      if (split_pair(tok.text, key, val)) {
        if (out.props.size() < kMaxProps) {
          std::string_view v = val;
          if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
          out.props.emplace_back(text::lower(key), std::string(v));
        }
        continue;
      }
      if (!seen_word && out.props.empty()) {
        have_result = true;
        out.result = text::lower(tok.text);
      }
      seen_word = true;
    }
  }
  static constexpr std::string_view kResults[] = {
      "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "error", "unknown"};
  if (!have_result) {
    out.reason = "no result word";
    return out;
  }
  for (auto r : kResults)
    if (out.result == r) {
      out.ok = true;
      return out;
    }
  out.reason = "unknown result '" + out.result.substr(0, 32) + "'";
  return out;
}

}  // namespace hdrscan::mime
