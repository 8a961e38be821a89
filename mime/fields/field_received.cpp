// field_received.cpp: one Received: header value -> ReceivedHop (from/by/with/id/for/via, the
// connecting and receiving IPs, the date after the last ';').
// Model: rspamd's libmime/received.cxx: split the value into words and (nested) comments,
// assign words to the clause opened by the last keyword, then read hosts and IPs out of the
// comments of the from and by clauses. Shapes handled (all seen in real mail):
//   Postfix/sendmail  from helo (rdns [ip]) by mx (Postfix) with ESMTPS id X for <a@b>; date
//   Microsoft         from helo (ip) by host (ip) with Microsoft SMTP Server (...) id 15.20.x
//                     via Frontend Transport; date      and "from (::1)", "([fe80::1%4])"
//   exim              from [ip] (helo=x) / from rdns ([ip]:port helo=x)
//   vger/zmailer      from rdns ([ip]:port "EHLO helo" rhost-flags-...) by ... (ORCPT <rfc822;a>)
//   qmail             from unknown (HELO x) (ip) by ...;  "(qmail 1 invoked by uid 0); date"
//   mailing lists     (majordomo@host) by host via listexpand id X; date
// Limits: clauses are read from at most text::kMaxFieldInput bytes; the date separator is the
// last ';' outside comments anywhere in the value (one linear pass); without any ';' the date
// may start at the last "Day," outside comments (old gateways), used only when it parses.
// At most kMaxWords words and kMaxComments comments are kept per clause; a comment left open
// runs to the end of the value.
// Bare IPs in a comment count only as the comment's first word ("(1.2.3.4)", "(ip/ip)"), so a
// version number such as "(ecelerity 4.2.38.62 ...)" is not mistaken for an address.
// Diagnostics: ok=false with reason "empty value" or "no from or by clause"; the date fields
// are filled whenever a date parses, even then.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "mime/text.hpp"
#include "mime/fields/fields.hpp"

namespace hdrscan::mime {
namespace {

using text::is_space;

constexpr std::size_t kMaxWords = 32;
constexpr std::size_t kMaxComments = 32;
constexpr std::size_t kMaxDateText = 256;
constexpr std::size_t kMaxJoined = 256;

enum Clause { kPrelude, kFrom, kBy, kWith, kId, kFor, kVia, kClauseCount };

struct ClauseText {
  std::vector<std::string_view> words;
  std::vector<std::string_view> comments;  // inner text, nested parentheses kept
};

Clause keyword(std::string_view word) {
  if (text::iequals(word, "from")) return kFrom;
  if (text::iequals(word, "by")) return kBy;
  if (text::iequals(word, "with")) return kWith;
  if (text::iequals(word, "id")) return kId;
  if (text::iequals(word, "for")) return kFor;
  if (text::iequals(word, "via")) return kVia;
  return kPrelude;
}

bool is_weekday(std::string_view three) {
  for (std::string_view day : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
    if (text::iequals(three, day)) return true;
  return false;
}

// Position of the date separator: the last ';' outside comments, or (when parentheses never
// balance) the last ';' at all, flagged as a guess.
struct Separator {
  std::size_t pos = std::string_view::npos;
  bool guessed = false;
};

// The bytes find_separator acts on; any other byte is passed over with one look-up.
constexpr std::array<bool, 256> kSeparatorBytes = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {'\\', '(', ')', ';', ','}) t[c] = true;
  return t;
}();

Separator find_separator(std::string_view value) {
  Separator sep;
  std::size_t last_any = std::string_view::npos;
  std::size_t last_weekday = std::string_view::npos;  // the space before "Wed,"
  int depth = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (!kSeparatorBytes[static_cast<unsigned char>(c)]) continue;
    if (c == '\\' && depth > 0) {
      ++i;  // quoted-pair inside a comment
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (c == ';') {
      last_any = i;
      if (depth == 0) sep.pos = i;
    } else if (c == ',' && depth == 0 && i >= 4 && text::is_space(value[i - 4]) &&
               is_weekday(value.substr(i - 3, 3))) {
      last_weekday = i - 4;
    }
  }
  if (sep.pos == std::string_view::npos && last_any != std::string_view::npos) {
    sep.pos = last_any;
    sep.guessed = true;
  } else if (sep.pos == std::string_view::npos && last_weekday != std::string_view::npos) {
    // No ';' at all ("from SMTP agent by mail gateway Wed, 24 Jul 2002 06:43:48 -0000"):
    // the date starts at the last "Day," outside comments.
    sep.pos = last_weekday;
    sep.guessed = true;
  }
  return sep;
}

using Clauses = std::array<ClauseText, kClauseCount>;

// Splits the clause part into words and comments and files them under their clause, in
// `clauses` (emptied first: a per-thread set reused from header to header, issue 17).
void split_clauses(std::string_view part, Clauses& clauses) {
  for (auto& c : clauses) {
    c.words.clear();
    c.comments.clear();
  }
  std::array<bool, kClauseCount> seen{};
  Clause current = kPrelude;
  std::size_t i = 0;
  while (i < part.size()) {
    const char c = part[i];
    if (is_space(c) || c == ')') {  // a stray ')' at top level separates like a space
      ++i;
      continue;
    }
    if (c == '(') {
      int depth = 1;
      const std::size_t start = ++i;
      while (i < part.size() && depth > 0) {
        if (part[i] == '\\')
          ++i;
        else if (part[i] == '(')
          ++depth;
        else if (part[i] == ')')
          --depth;
        ++i;
      }
      const std::size_t end = depth == 0 ? i - 1 : part.size();
      if (i > part.size()) i = part.size();
      auto& comments = clauses[current].comments;
      if (comments.size() < kMaxComments) comments.push_back(part.substr(start, end - start));
      continue;
    }
    const std::size_t start = i;
    while (i < part.size() && !is_space(part[i]) && part[i] != '(' && part[i] != ')') ++i;
    auto word = part.substr(start, i - start);
    if (Clause k = keyword(word); k != kPrelude && !seen[k]) {
      seen[k] = true;
      current = k;
      continue;
    }
    auto& words = clauses[current].words;
    if (words.size() < kMaxWords) words.push_back(word);
  }
}

// Words of a comment: split on whitespace, quotes, commas and nested parentheses, into
// `words` (emptied first).
void comment_words(std::string_view comment, std::vector<std::string_view>& words) {
  words.clear();
  std::size_t i = 0;
  auto separator = [](char c) {
    return is_space(c) || c == '"' || c == '(' || c == ')' || c == ',' || c == ';';
  };
  while (i < comment.size() && words.size() < kMaxWords) {
    while (i < comment.size() && separator(comment[i])) ++i;
    const std::size_t start = i;
    while (i < comment.size() && !separator(comment[i])) ++i;
    if (i > start) words.push_back(comment.substr(start, i - start));
  }
}

// "[1.2.3.4]", "[1.2.3.4]:25", "[IPv6:2001:db8::1]" -> the address; nullopt if not bracketed.
std::optional<IpAddress> bracketed_ip(std::string_view word) {
  if (word.empty() || word.front() != '[') return std::nullopt;
  const auto close = word.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  return parse_ip(word.substr(1, close - 1));
}

// A bare address word, also "ip/ip" (Proofpoint) and "user@ip" (qmail).
std::optional<IpAddress> bare_ip(std::string_view word) {
  if (auto at = word.rfind('@'); at != std::string_view::npos) word = word.substr(at + 1);
  if (auto slash = word.find('/'); slash != std::string_view::npos) word = word.substr(0, slash);
  if (word.empty() || word == "::") return std::nullopt;
  if (auto b = bracketed_ip(word)) return b;
  return parse_ip(word);
}

std::string strip_user(std::string_view word) {
  if (auto at = word.rfind('@'); at != std::string_view::npos) word = word.substr(at + 1);
  return std::string(word);
}

struct HostInfo {
  std::optional<IpAddress> ip;
  std::string rdns;
  std::string helo;
};

// Reads an address, the reverse name before a bracketed address and an explicit HELO out of
// the comments of one clause. Bracketed addresses win over bare ones.
HostInfo read_comments(const std::vector<std::string_view>& comments) {
  HostInfo info;
  std::optional<IpAddress> bare;
  thread_local std::vector<std::string_view> words;  // reused (issue 17)
  for (auto comment : comments) {
    comment_words(comment, words);
    for (std::size_t w = 0; w < words.size(); ++w) {
      auto word = words[w];
      if ((text::iequals(word, "helo") || text::iequals(word, "ehlo")) && w + 1 < words.size()) {
        if (info.helo.empty()) info.helo = std::string(words[w + 1]);
        ++w;
        continue;
      }
      if (text::istarts_with(word, "helo=")) {
        if (info.helo.empty()) info.helo = std::string(word.substr(5));
        continue;
      }
      if (info.ip) continue;
      if (auto ip = bracketed_ip(word)) {
        info.ip = ip;
        if (w > 0 && !bare_ip(words[w - 1]) && words[w - 1].find('=') == std::string_view::npos)
          info.rdns = strip_user(words[w - 1]);
        continue;
      }
      if (w == 0 && !bare)
        if (auto ip = bare_ip(word)) bare = ip;
    }
  }
  if (!info.ip) info.ip = bare;
  return info;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) {
    if (out.size() + w.size() + 1 > kMaxJoined) break;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::string_view strip_trailing(std::string_view word, std::string_view chars) {
  while (!word.empty() && chars.find(word.back()) != std::string_view::npos) word.remove_suffix(1);
  return word;
}

}  // namespace

ReceivedHop parse_received(std::string_view value) {
  ReceivedHop hop;
  value = text::trim(value);
  if (value.empty()) {
    hop.reason = "empty value";
    return hop;
  }
  const Separator sep = find_separator(value);
  std::string_view clause_part = value;
  if (sep.pos != std::string_view::npos) {
    auto date = text::trim(value.substr(sep.pos + 1));
    if (date.size() > kMaxDateText) date = date.substr(0, kMaxDateText);
    auto time = parse_rfc5322_date(date);
    // A guessed separator counts only when a date follows it.
    if (time || !sep.guessed) {
      hop.date_text = std::string(date);
      hop.time = time;
      clause_part = value.substr(0, sep.pos);
    }
  }
  if (clause_part.size() > text::kMaxFieldInput)
    clause_part = clause_part.substr(0, text::kMaxFieldInput);

  // Reused from header to header on this thread: no allocation per Received line (issue 17).
  thread_local Clauses clauses;
  split_clauses(clause_part, clauses);

  const auto& from = clauses[kFrom];
  if (!from.words.empty()) hop.from_host = std::string(strip_trailing(from.words[0], ",;"));
  HostInfo from_info = read_comments(from.comments);
  hop.from_ip = from_info.ip;
  hop.from_rdns = std::move(from_info.rdns);
  hop.from_helo = std::move(from_info.helo);
  if (!hop.from_ip && !hop.from_host.empty()) hop.from_ip = bare_ip(hop.from_host);

  const auto& by = clauses[kBy];
  if (!by.words.empty()) hop.by_host = std::string(strip_trailing(by.words[0], ",;"));
  hop.by_ip = read_comments(by.comments).ip;
  if (!hop.by_ip && !hop.by_host.empty()) hop.by_ip = bare_ip(hop.by_host);

  hop.with = join(clauses[kWith].words);
  hop.via = join(clauses[kVia].words);
  if (!clauses[kId].words.empty())
    hop.id = std::string(strip_trailing(clauses[kId].words[0], ",;"));
  if (!clauses[kFor].words.empty()) {
    auto rcpt = strip_trailing(clauses[kFor].words[0], ",;>");
    if (!rcpt.empty() && rcpt.front() == '<') rcpt.remove_prefix(1);
    hop.for_addr = std::string(rcpt);
  }
  hop.microsoft_smtp_server = text::istarts_with(hop.with, "Microsoft SMTP Server");
  hop.frontend_transport = text::iequals(hop.via, "Frontend Transport");

  if (hop.from_host.empty() && !hop.from_ip && hop.by_host.empty()) {
    hop.reason = "no from or by clause";
    return hop;
  }
  hop.ok = true;
  return hop;
}

}  // namespace hdrscan::mime
