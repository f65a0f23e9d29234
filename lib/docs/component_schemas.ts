import { type JsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import type * as v from "valibot";

export type { JsonSchema };

/**
 * Converts named valibot schemas of the wire contract into JSON Schemas for
 * the `components.schemas` of an OpenAPI or AsyncAPI document. A schema used
 * inside another becomes a `$ref` to its own entry.
 *
 * Conversion throws for any validation that JSON Schema cannot express,
 * unless the contract says how it is stated (a check carrying its
 * `jsonSchema`, explained in the field's description when that is `{}`), so
 * the description can never be looser than the server without saying so.
 *
 * @param target the JSON Schema dialect of the document: OpenAPI 3.1 uses
 * draft 2020-12, AsyncAPI 3 a superset of draft-07
 */
export function componentSchemas(
  schemas: Record<string, v.GenericSchema>,
  target: "draft-07" | "draft-2020-12",
): Record<string, JsonSchema> {
  return toJsonSchemaDefs(schemas, {
    target,
    errorMode: "throw",
    overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
    overrideAction({ valibotAction, jsonSchema }) {
      // A check of the contract says what JSON Schema states for it
      // (`lib/text_field.ts`); one it cannot state ({}) is explained in
      // the field's description, as is the normalisation to NFC.
      if ("jsonSchema" in valibotAction) {
        return { ...jsonSchema, ...valibotAction.jsonSchema as JsonSchema };
      }
      if (valibotAction.type === "normalize") return jsonSchema;
      return undefined;
    },
  });
}

/** A `$ref` to a schema made by {@linkcode componentSchemas}. */
export function schemaRef(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}
