/**
 * Every JSON example in README.md is checked against the schemas of the API
 * description and against the server's own validation, so the README cannot
 * drift from the server.
 *
 * Each ```json block is preceded by a comment naming its schema:
 * `<!-- valid: SendBody -->` for an example that must be accepted, or
 * `<!-- refused: ClientFrame -->` for one that must be refused, followed by
 * a line "Refused with `<the error message>`." that states the error.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import type * as v from "valibot";
import * as contract from "../lib/contract.ts";
import { asyncApiDocument } from "../lib/docs/asyncapi.ts";
import { openApiDocument } from "../lib/docs/openapi.ts";
import { componentValidators } from "./_json_schema.ts";

/** One ```json block of the README, with what its comment says of it. */
interface Example {
  line: number;
  json: string;
  kind: "valid" | "refused";
  schema: string;
  /** For a refused example: the error the README says it gets. */
  error?: string;
}

const MARKER = /^<!-- (valid|refused): (\w+) -->$/;
const REFUSED_WITH = /^Refused with `(.+)`\.$/;

/** Finds every ```json block and reads the comment before it. */
function readExamples(markdown: string): Example[] {
  const lines = markdown.split("\n");
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```json") continue;
    const start = i;
    const end = lines.indexOf("```", start + 1);
    if (end === -1) throw new Error(`README.md:${start + 1}: block not closed`);
    const marker = MARKER.exec(previousText(lines, start));
    if (!marker) {
      throw new Error(
        `README.md:${start + 1}: a json block needs a comment before it, ` +
          "such as <!-- valid: SendBody --> or <!-- refused: ClientFrame -->",
      );
    }
    const example: Example = {
      line: start + 1,
      json: lines.slice(start + 1, end).join("\n"),
      kind: marker[1] as Example["kind"],
      schema: marker[2]!,
    };
    if (example.kind === "refused") {
      const stated = REFUSED_WITH.exec(nextText(lines, end));
      if (!stated) {
        throw new Error(
          `README.md:${end + 1}: a refused example needs a line ` +
            '"Refused with `<error>`." after it',
        );
      }
      example.error = stated[1]!;
    }
    examples.push(example);
    i = end;
  }
  return examples;
}

function previousText(lines: string[], index: number): string {
  for (let i = index - 1; i >= 0; i--) {
    if (lines[i]!.trim() !== "") return lines[i]!;
  }
  return "";
}

function nextText(lines: string[], index: number): string {
  for (let i = index + 1; i < lines.length; i++) {
    if (lines[i]!.trim() !== "") return lines[i]!;
  }
  return "";
}

const readme = await Deno.readTextFile(
  new URL("../README.md", import.meta.url),
);
const jsonSchemas = new Map([
  ...componentValidators(openApiDocument(), "draft-2020-12"),
  ...componentValidators(asyncApiDocument(), "draft-07"),
]);
const valibotSchemas = contract as unknown as Record<string, v.GenericSchema>;

Deno.test("README.md labels every JSON example", () => {
  const examples = readExamples(readme);
  const count = (kind: Example["kind"]) =>
    examples.filter((example) => example.kind === kind).length;
  assert(count("valid") >= 15, `only ${count("valid")} valid examples`);
  assert(count("refused") >= 5, `only ${count("refused")} refused examples`);
});

Deno.test("README.md examples match the API description", async (t) => {
  for (const example of readExamples(readme)) {
    const { line, kind, schema } = example;
    await t.step(`line ${line}: ${kind} ${schema}`, () => {
      const value = JSON.parse(example.json);
      const jsonSchema = jsonSchemas.get(schema);
      const valibotSchema = valibotSchemas[schema];
      assert(jsonSchema, `no schema "${schema}" in the API description`);
      assert(valibotSchema, `no schema "${schema}" in lib/contract.ts`);

      const byJsonSchema = jsonSchema(value);
      const byServer = contract.validate(valibotSchema, value);
      if (kind === "valid") {
        assert(byJsonSchema, JSON.stringify(jsonSchema.errors));
        assert(byServer.ok, JSON.stringify(byServer));
      } else {
        assertEquals(byJsonSchema, false, "the JSON Schema accepts it");
        assertEquals(byServer, { ok: false, error: example.error });
      }
    });
  }
});

Deno.test("readExamples() refuses an unlabelled or unexplained block", async (t) => {
  const cases: [string, RegExp][] = [
    ["text\n\n```json\n{}\n```\n", /needs a comment before it/],
    ["<!-- valid: X -->\n```json\n{}\n", /block not closed/],
    [
      "<!-- refused: SendBody -->\n\n```json\n{}\n```\n\nNo reason.\n",
      /needs a line "Refused with/,
    ],
  ];
  for (const [markdown, error] of cases) {
    await t.step(error.source, () => {
      let thrown: unknown;
      try {
        readExamples(markdown);
      } catch (caught) {
        thrown = caught;
      }
      assert(
        thrown instanceof Error && error.test(thrown.message),
        String(thrown),
      );
    });
  }
});
