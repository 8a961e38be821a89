// milter_config_test.cpp: the milter config file parser (defaults, every key, errors with
// file:line) and the verdict -> end-of-message policy (tag / quarantine / reject / accept /
// tempfail / dry-run, wrappers), including the shipped example config.
#include <doctest/doctest.h>

#include <string>

#include "scanner/milter/milter_config.hpp"

using namespace hdrscan::scanner::milter;
using hdrscan::heuristics::Verdict;

namespace {
std::string error_of(const std::string& text) {
  try {
    parse_config(text, "t.conf");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("defaults: tag clean and suspicious - quarantine campaign - tempfail on error") {
  Config c;
  CHECK(c.action_for(Verdict::clean) == Action::tag);
  CHECK(c.action_for(Verdict::suspicious) == Action::tag);
  CHECK(c.action_for(Verdict::campaign) == Action::quarantine);
  // A wrapper (the verdict came from an attached message: a user's forward to the helpdesk)
  // is tagged, whatever its verdict; a clean one is clean mail.
  CHECK(c.on_wrapper == Action::tag);
  CHECK(c.action_for(Verdict::campaign, true) == Action::tag);
  CHECK(c.action_for(Verdict::suspicious, true) == Action::tag);
  CHECK(c.action_for(Verdict::clean, true) == Action::tag);
  CHECK(c.on_error == ErrorResult::tempfail);
  CHECK(check_smtp_reply(c.reject_reply).empty());
  CHECK_FALSE(c.dry_run);
}

TEST_CASE("every key parses") {
  Config c = parse_config(
      "# comment\n"
      "\n"
      "listen = unix:/run/hdrscan/milter.sock\n"
      "indicators = /etc/hdrscan/local.ind\n"
      "indicators = /etc/hdrscan/more.ind\n"
      "clean = accept\n"
      "suspicious = quarantine\n"
      "campaign = reject\n"
      "wrapper-action = quarantine\n"
      "quarantine-reason = held for review\n"
      "reject-reply = 554 5.7.1 Go away\n"
      "on-error = accept\n"
      "max-body-bytes = 512k\n"
      "max-header-bytes = 2M\n"
      "idle-timeout = 900\n"
      "read-timeout = 5\n"
      "scan-timeout = 20\n"
      "progress-interval = 3\n"
      "drain-timeout = 10\n"
      "io-threads = 2\n"
      "scan-threads = 4\n"
      "max-connections = 50\n"
      "top-signals = 5\n"
      "dry-run = yes\n"
      "stats-file = /run/hdrscan/stats.json\n",
      "t.conf");
  CHECK(c.listen == "unix:/run/hdrscan/milter.sock");
  REQUIRE(c.indicators.size() == 2);
  CHECK(c.indicators[1] == "/etc/hdrscan/more.ind");
  CHECK(c.on_clean == Action::accept);
  CHECK(c.on_suspicious == Action::quarantine);
  CHECK(c.on_campaign == Action::reject);
  CHECK(c.on_wrapper == Action::quarantine);
  CHECK(c.quarantine_reason == "held for review");
  CHECK(c.reject_reply == "554 5.7.1 Go away");
  CHECK(c.on_error == ErrorResult::accept);
  CHECK(c.max_body_bytes == 512u * 1024);
  CHECK(c.max_header_bytes == 2u * 1024 * 1024);
  CHECK(c.idle_timeout == 900);
  CHECK(c.read_timeout == 5);
  CHECK(c.scan_timeout == 20);
  CHECK(c.progress_interval == 3);
  CHECK(c.drain_timeout == 10);
  CHECK(c.io_threads == 2);
  CHECK(c.scan_threads == 4);
  CHECK(c.max_connections == 50);
  CHECK(c.top_signals == 5);
  CHECK(c.dry_run);
  CHECK(c.stats_file == "/run/hdrscan/stats.json");
}

TEST_CASE("errors name the file and line - a typo never weakens the policy silently") {
  CHECK(error_of("campaign = quarantine\ncampain = reject\n") == "t.conf:2: unknown key 'campain'");
  CHECK(error_of("campaign = delete\n").find("t.conf:1: action must be") == 0);
  CHECK(error_of("clean = tag\nwrapper-action = drop\n").find("t.conf:2: action must be") == 0);
  CHECK(error_of("wrapper_action = reject\n") == "t.conf:1: unknown key 'wrapper_action'");
  CHECK(error_of("reject-reply = 451 4.7.1 later\n").find("5xx") != std::string::npos);
  CHECK(error_of("reject-reply = 550 4.7.1 mismatch\n").find("class") != std::string::npos);
  CHECK(error_of("reject-reply = 250 ok\n").find("4xx or 5xx") != std::string::npos);
  CHECK(error_of("max-body-bytes = lots\n").find("bad number") != std::string::npos);
  CHECK(error_of("max-body-bytes = 99999999999\n").find("bad number") != std::string::npos);
  CHECK(error_of("idle-timeout = 0\n").find("at least 1") != std::string::npos);
  CHECK(error_of("io-threads = 0\n").find("at least 1") != std::string::npos);
  CHECK(error_of("listen = tcp://x\n").find("listen must be") != std::string::npos);
  CHECK(error_of("dry-run = maybe\n").find("dry-run") != std::string::npos);
  CHECK(error_of("on-error = explode\n").find("on-error") != std::string::npos);
  CHECK(error_of("just words\n") == "t.conf:1: expected 'key = value'");
  CHECK(error_of(std::string(5000, 'x') + "\n").find("longer than 4096") != std::string::npos);
  CHECK(error_of("clean = tag\r\n").empty());  // CRLF files are fine
}

TEST_CASE("a config file replaces the base's indicator list - other keys keep the base") {
  Config base;
  base.indicators = {"a.ind"};
  base.on_campaign = Action::reject;
  Config c = parse_config("indicators = b.ind\n", "t", base);
  REQUIRE(c.indicators.size() == 1);
  CHECK(c.indicators[0] == "b.ind");
  CHECK(c.on_campaign == Action::reject);
}

TEST_CASE("the shipped example config parses and states the defaults") {
  Config c = load_config_file(std::string(HDRSCAN_SOURCE_DIR) + "/docs/hdrscan-milter.conf.example");
  Config d;
  CHECK(c.on_clean == d.on_clean);
  CHECK(c.on_suspicious == d.on_suspicious);
  CHECK(c.on_campaign == d.on_campaign);
  CHECK(c.on_wrapper == d.on_wrapper);
  CHECK(c.on_error == d.on_error);
  CHECK(c.max_body_bytes == d.max_body_bytes);
  CHECK(c.listen == "unix:/var/spool/postfix/hdrscan/hdrscan.sock");
}

TEST_CASE("missing config file is an error - not defaults") {
  CHECK_THROWS_AS(load_config_file("/nonexistent/hdrscan.conf"), ConfigError);
}

TEST_CASE("policy: tag adds both headers and deletes forged ones") {
  Config c;
  EomDecision d = decide(c, Verdict::suspicious, 55, {"relay.x", "strip.y"});
  CHECK(d.delete_forged);
  REQUIRE(d.add_headers.size() == 2);
  CHECK(d.add_headers[0].first == "X-Hdrscan-Verdict");
  CHECK(d.add_headers[0].second == "suspicious");
  CHECK(d.add_headers[1].first == "X-Hdrscan-Score");
  CHECK(d.add_headers[1].second == "55 signals=relay.x,strip.y");
  CHECK(d.quarantine_reason.empty());
  CHECK(d.final == Final::cont);
}

TEST_CASE("policy: quarantine tags and holds with the reason - verdict and score") {
  Config c;
  EomDecision d = decide(c, Verdict::campaign, 97, {"a"});
  CHECK(d.add_headers.size() == 2);
  CHECK(d.quarantine_reason == c.quarantine_reason + " (verdict campaign, score 97)");
  CHECK(d.final == Final::cont);  // 'q' is not final: a CONTINUE must follow
}

TEST_CASE("policy: reject uses the configured reply - accept and tempfail") {
  Config c = parse_config("campaign = reject\nreject-reply = 550 5.7.1 No (100% sure)\n"
                          "clean = accept\nsuspicious = tempfail\n", "t");
  EomDecision r = decide(c, Verdict::campaign, 90, {});
  CHECK(r.final == Final::replycode);
  CHECK(r.reply_text == "550 5.7.1 No (100% sure)");
  CHECK(r.add_headers.empty());
  EomDecision a = decide(c, Verdict::clean, 0, {});
  CHECK(a.final == Final::cont);
  CHECK(a.add_headers.empty());
  CHECK(a.delete_forged);  // even unchanged mail never keeps a forged verdict header
  CHECK(decide(c, Verdict::suspicious, 40, {}).final == Final::tempfail);
}

// Issue 14 item 5: a user forwarding campaign mail as an attachment must not see it rejected.
TEST_CASE("policy: a wrapper is tagged by default, naming the attached message; wrapper-action changes it") {
  Config c = parse_config("campaign = reject\n", "t");
  EomDecision d = decide(c, Verdict::campaign, 97, {"a", "b"}, "nested[0]");
  CHECK(d.final == Final::cont);
  CHECK(d.reply_text.empty());
  CHECK(d.quarantine_reason.empty());
  REQUIRE(d.add_headers.size() == 2);
  CHECK(d.add_headers[0].second == "campaign");  // the verdict word stays the verdict
  CHECK(d.add_headers[1].second == "97 signals=a,b nested_from=nested[0]");
  // The same message unwrapped gets the campaign action.
  CHECK(decide(c, Verdict::campaign, 97, {"a"}).final == Final::replycode);

  c = parse_config("wrapper-action = reject\n", "t");
  CHECK(c.on_campaign == Action::quarantine);
  EomDecision r = decide(c, Verdict::campaign, 97, {"a"}, "nested[0]");
  CHECK(r.final == Final::replycode);
  CHECK(r.reply_text == c.reject_reply);
  CHECK(decide(c, Verdict::suspicious, 40, {}, "nested[1]").final == Final::replycode);
  // A clean wrapper (a forward of clean mail) is clean mail: the clean action.
  EomDecision cl = decide(c, Verdict::clean, 3, {}, "nested[0]");
  CHECK(cl.final == Final::cont);
  CHECK(cl.add_headers.size() == 2);

  c = parse_config("wrapper-action = quarantine\n", "t");
  EomDecision q = decide(c, Verdict::campaign, 88, {}, "nested[0].nested[1]");
  CHECK(q.quarantine_reason == c.quarantine_reason + " (verdict campaign of an attached message, score 88)");
  REQUIRE(q.add_headers.size() == 2);
  CHECK(q.add_headers[1].second == "88 nested_from=nested[0].nested[1]");
  CHECK(score_header_value(5, {}, "nested[0]\r\nX-Evil: 1") == "5 nested_from=nested[0]XEvil1");
}

TEST_CASE("policy: dry-run changes nothing") {
  Config c = parse_config("campaign = reject\ndry-run = yes\n", "t");
  EomDecision d = decide(c, Verdict::campaign, 100, {"a"});
  CHECK(d.final == Final::cont);
  CHECK(d.add_headers.empty());
  CHECK_FALSE(d.delete_forged);
  CHECK(d.quarantine_reason.empty());
}

TEST_CASE("score header without signals - top signals: positive - distinct - header-safe") {
  CHECK(score_header_value(0, {}) == "0");
  hdrscan::heuristics::Assessment a;
  a.evidence = {{"relay.known_connector_ip", 30, "", "", ""},
                {"legit.dkim_aligned", -10, "", "", ""},
                {"relay.known_connector_ip", 30, "", "", ""},
                {"strip.arc\r\nX-Evil: 1", 20, "", "", ""},
                {"lure.subject", 15, "", "", ""},
                {"extra.one", 5, "", "", ""}};
  auto top = top_signals(a, 3);
  REQUIRE(top.size() == 3);
  CHECK(top[0] == "relay.known_connector_ip");
  CHECK(top[1] == "strip.arcX-Evil1");
  CHECK(top[2] == "lure.subject");
}
