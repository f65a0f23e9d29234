import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { summarize } from "../scripts/run_tests.ts";

/** What Deno's pretty reporter prints (colours left out). */
const PASSING = `running 2 tests from ./tests/a_test.ts
quiet test ... ok (1ms)
noisy test ...
------- output -------
2026-01-01T00:00:00.000Z INFO connection.open id=1 ip=127.0.0.1
----- output end -----
  a step ... ok (2ms)
noisy test ... ok (5ms)
running 1 test from ./tests/b_test.ts
other test ... ok (1ms)

ok | 3 passed (1 step) | 0 failed (40ms)
`;

const FAILING = `running 3 tests from ./tests/a_test.ts
quiet test ... ok (1ms)
failing test ...
------- output -------
what it printed
----- output end -----
  first step ... ok (0ms)
  second step ... FAILED (1ms)
failing test ... FAILED (due to 1 failed step) (3ms)
noisy passing test ...
------- output -------
noise
----- output end -----
noisy passing test ... ok (1ms)

 ERRORS 

failing test ... second step => ./tests/a_test.ts:5:11
error: Error: boom

 FAILURES 

failing test ... second step => ./tests/a_test.ts:5:11

FAILED | 2 passed (1 step) | 1 failed (1 step) (8ms)

error: Test failed
`;

Deno.test("summarize() shows a passing run as Deno's summary line", () => {
  assertEquals(summarize({ stdout: PASSING, stderr: "", passed: true }), [
    "ok | 3 passed (1 step) | 0 failed (40ms)",
  ]);
});

Deno.test("summarize() shows the failed tests, the errors and the summary", () => {
  assertEquals(summarize({ stdout: FAILING, stderr: "", passed: false }), [
    "failing test ...",
    "------- output -------",
    "what it printed",
    "----- output end -----",
    "  first step ... ok (0ms)",
    "  second step ... FAILED (1ms)",
    "failing test ... FAILED (due to 1 failed step) (3ms)",
    "",
    " ERRORS",
    "",
    "failing test ... second step => ./tests/a_test.ts:5:11",
    "error: Error: boom",
    "",
    " FAILURES",
    "",
    "failing test ... second step => ./tests/a_test.ts:5:11",
    "",
    "FAILED | 2 passed (1 step) | 1 failed (1 step) (8ms)",
    "",
    "error: Test failed",
  ]);
});

Deno.test("summarize() always shows warnings meant for the reader", () => {
  const stderr = "!! SKIPPING THE BROWSER TESTS: no Chromium\n";
  assertEquals(summarize({ stdout: PASSING, stderr, passed: true }), [
    "!! SKIPPING THE BROWSER TESTS: no Chromium",
    "ok | 3 passed (1 step) | 0 failed (40ms)",
  ]);
});

Deno.test("summarize() shows the end of the output when no test ran", () => {
  const stderr = 'error: Module not found "file:///x/tests/nope_test.ts".\n';
  assertEquals(summarize({ stdout: "", stderr, passed: false }), [
    'error: Module not found "file:///x/tests/nope_test.ts".',
  ]);
});
