/**
 * Input rules shared by every route: what an id looks like, how a count is written, and how a
 * zod failure becomes a 400 that names the field.
 */
import { ulid } from "ulid";
// zod/mini: the same validator with a functional API, about 18 KiB bundled instead of ~440 KiB
// for classic zod, which every cold start would otherwise parse.
import * as z from "zod/mini";
import { badRequest, DomainError } from "./errors";

/** Longest id (customer, product, order) the service accepts. */
export const ID_MAX_LENGTH = 128;

/**
 * Characters an id may use. Ids travel in URL paths, query strings and CloudWatch logs, so keep
 * them to a set that never needs escaping anywhere. ULIDs and UUIDs fit. `.` and `..` alone are
 * refused as well: in a path they are not literal.
 */
export const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

const ID_CHARSET_TEXT = "letters, digits and . _ : -";

/** A fresh order/customer/product id: a ULID, so ids sort by creation time. */
export function newId(): string {
  return ulid();
}

/** A zod schema for an id-like string with messages that read after the field name. */
export function idSchema(maxLength: number = ID_MAX_LENGTH): z.ZodMiniString {
  return z
    .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
    .check(
      z.minLength(1, "must not be empty"),
      z.maxLength(maxLength, `must be at most ${maxLength} characters`),
      z.regex(ID_PATTERN, `may only contain ${ID_CHARSET_TEXT}`),
      // Path segments; a URL parser would read them as "here" and "parent".
      z.refine((v) => v !== "." && v !== "..", "must not be '.' or '..'"),
    );
}

/**
 * Parses `input` with `schema`, turning the first issue into a 400 whose message starts with the
 * field's name (`root` when the problem is the whole value, e.g. `body`).
 */
export function parseWith<T extends z.ZodMiniType>(
  schema: T,
  input: unknown,
  root: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw badRequest(root, "is invalid");
  throw issueToError(issue, root);
}

function issueToError(issue: z.core.$ZodIssue, root: string): DomainError {
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `'${k}'`).join(", ");
    return badRequest(root, `has unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}`);
  }
  if (issue.path.length === 0 && issue.code === "invalid_type") {
    return badRequest(root, `must be a JSON ${issue.expected}`);
  }
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : root;
  return badRequest(field, issue.message);
}

/**
 * Parses a whole-number query parameter in `[min, max]`. Only plain decimal digits are accepted
 * (no sign, exponent or spaces), so "1e3" or " 5" is a 400 rather than a surprise.
 */
export function parseIntParam(field: string, raw: string, min: number, max: number): number {
  const range = `an integer from ${min} to ${max}`;
  if (!/^\d{1,16}$/.test(raw)) throw badRequest(field, `must be ${range}: got '${clip(raw)}'`);
  const value = Number(raw);
  if (value < min || value > max) throw badRequest(field, `must be ${range}: got ${value}`);
  return value;
}

/** Echoes client input in messages without letting a huge value through. */
export function clip(raw: string, max = 40): string {
  return raw.length <= max ? raw : `${raw.slice(0, max)}…`;
}
