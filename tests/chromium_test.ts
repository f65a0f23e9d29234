import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { findChromium } from "./_chromium.ts";

Deno.test("findChromium() finds a browser where people install one", async (t) => {
  const cases: {
    what: string;
    variables: Record<string, string>;
    installed: string[];
    found: string | undefined;
  }[] = [
    {
      what: "the one CHROMIUM_PATH names, first",
      variables: { CHROMIUM_PATH: "/x/chrome", PATH: "/usr/bin" },
      installed: ["/usr/bin/chromium"],
      found: "/x/chrome",
    },
    {
      what: "a command on the PATH, in the PATH's order",
      variables: { PATH: "/home/ann/bin:/usr/local/bin:/usr/bin" },
      installed: ["/usr/local/bin/google-chrome", "/usr/bin/chromium"],
      found: "/usr/local/bin/google-chrome",
    },
    {
      what: "Debian's and Ubuntu's places off the PATH",
      variables: { PATH: "/home/ann/bin" },
      installed: ["/usr/bin/chromium-browser"],
      found: "/usr/bin/chromium-browser",
    },
    {
      what: "Chrome on macOS",
      variables: { PATH: "/usr/bin:/bin" },
      installed: [
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
      ],
      found: "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    },
    {
      what: "nothing when there is none",
      variables: { PATH: "/usr/bin" },
      installed: [],
      found: undefined,
    },
  ];
  for (const { what, variables, installed, found } of cases) {
    await t.step(what, () => {
      assertEquals(
        findChromium({
          env: (name) => variables[name],
          isExecutable: (path) => installed.includes(path),
        }),
        found,
      );
    });
  }
});
