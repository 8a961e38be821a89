// The doctest main shared by every unit test binary, with two honesty checks (issue 14):
//  - a test case that ran no assertion (CHECK/REQUIRE and friends; WARN and MESSAGE do not
//    count) fails the binary: a case that returns before checking anything cannot pass;
//  - a case skipped by its decorator (test::needs_shared() in tests/support/test_support.hpp,
//    only when ../shared is absent as a whole) prints one "SKIP:" line with its reason, and the
//    run ends with their count: doctest counts them "skipped", never "passed", and tools/test
//    lists every SKIP line at the end.
// Diagnostics: "FAIL: test case ... ran no assertion", "SKIP: ...", on standard output (ctest
// keeps it in Testing/Temporary/LastTest.log).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

std::vector<std::string> g_no_assertion;  // "file: name" of cases that checked nothing
int g_skipped = 0;

std::string where(const doctest::TestCaseData& tc) {
  std::string file = tc.m_file.c_str();
  if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return file + ":" + std::to_string(tc.m_line) + " \"" + tc.m_name + "\"";
}

struct HonestyListener : doctest::IReporter {
  const doctest::TestCaseData* current = nullptr;
  explicit HonestyListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& tc) override { current = &tc; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& st) override {
    if (current && st.numAssertsCurrentTest == 0 && st.failure_flags == 0) g_no_assertion.push_back(where(*current));
    current = nullptr;
  }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData& tc) override {
    if (!tc.m_skip) return;  // filtered out on the command line (-tc...), not a skip
    ++g_skipped;
    std::printf("SKIP: %s: %s\n", where(tc).c_str(), tc.m_description ? tc.m_description : "marked skip");
  }
};

REGISTER_LISTENER("hdrscan-honesty", 1, HonestyListener);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  int rc = context.run();
  if (context.shouldExit()) return rc;
  std::fflush(stdout);
  for (const auto& w : g_no_assertion) std::printf("FAIL: test case %s ran no assertion\n", w.c_str());
  if (!g_no_assertion.empty() && rc == 0) rc = 1;
  if (g_skipped > 0)
    std::printf("[hdrscan] %d test case(s) skipped (SKIP lines above): they did not run and are not counted as passed\n",
                g_skipped);
  std::fflush(stdout);
  return rc;
}
