/**
 * The DynamoDB JSON protocol as the MRSC front sees it: which operation a request is, which items
 * of which tables it writes, DynamoDB-shaped error answers the SDK parses (`__type` + `message`),
 * and forwarding a request unchanged to a region's DynamoDB Local.
 */
import { tableSpec, type TableKey } from "../../functions/tables";
import type { Image } from "../replication-model";

/** An HTTP answer in DynamoDB's wire format. */
export interface DynamoAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

const JSON_TYPE = "application/x-amz-json-1.0";
const ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#";

/** An error the way DynamoDB answers it; the SDK turns `__type` into the exception's name. */
export function dynamoError(status: number, type: string, message: string): DynamoAnswer {
  return {
    status,
    body: JSON.stringify({ __type: `${ERROR_PREFIX}${type}`, message }),
    contentType: JSON_TYPE,
  };
}

/** DynamoDB's text for a write racing a write to the same item from another Region. */
export const REPLICATED_WRITE_CONFLICT_MESSAGE =
  "One or more items in the request are being modified by a request in another Region";

/** One item a request writes. */
export interface ItemWrite {
  readonly table: TableKey;
  readonly keys: Image;
  /** `${table}\0${key}`: one lock per item. */
  readonly id: string;
  /**
   * What the item is once the write succeeded: the whole item (a put), gone (a delete), or only
   * known by reading it back (an update).
   */
  readonly after: { readonly put: Image } | "deleted" | "read back";
}

export function itemWrite(
  table: TableKey,
  image: Image,
  after: ItemWrite["after"] = "read back",
): ItemWrite {
  const hashKey = tableSpec(table).hashKey;
  const value = image[hashKey];
  if (value === undefined) throw new Error(`item of ${table} has no ${hashKey}`);
  const keys = { [hashKey]: value };
  return { table, keys, id: `${table}\u0000${JSON.stringify(value)}`, after };
}

export type Operation =
  | { readonly kind: "write"; readonly items: readonly ItemWrite[] }
  | { readonly kind: "refuse"; readonly table: string; readonly what: string }
  | { readonly kind: "pass" };

interface RequestShape {
  TableName?: unknown;
  Item?: Image;
  Key?: Image;
  RequestItems?: Record<
    string,
    { PutRequest?: { Item?: Image }; DeleteRequest?: { Key?: Image } }[]
  >;
  TransactItems?: Record<string, { TableName?: unknown }>[];
  Statement?: unknown;
  Statements?: { Statement?: unknown }[];
  TransactStatements?: { Statement?: unknown }[];
}

/**
 * What a request means for the strong tables (`strong`: physical name -> table): the items it
 * writes, a refusal (transactions and PartiQL on a strong table), or "pass" (reads, control
 * calls, eventual tables). Throws on a body that is not a JSON object.
 */
export function classify(
  target: string,
  body: unknown,
  strong: ReadonlyMap<string, TableKey>,
): Operation {
  if (typeof body !== "object" || body === null) throw new Error("the body is not a JSON object");
  const op = target.slice(target.lastIndexOf(".") + 1);
  const req = body as RequestShape;
  const strongTable = (name: unknown): TableKey | undefined =>
    typeof name === "string" ? strong.get(name) : undefined;
  switch (op) {
    case "PutItem":
    case "UpdateItem":
    case "DeleteItem": {
      const table = strongTable(req.TableName);
      const image = op === "PutItem" ? req.Item : req.Key;
      if (table === undefined || image === undefined) return { kind: "pass" };
      const after =
        op === "PutItem" ? { put: image } : op === "DeleteItem" ? "deleted" : "read back";
      return { kind: "write", items: [itemWrite(table, image, after)] };
    }
    case "BatchWriteItem": {
      const items: ItemWrite[] = [];
      for (const [name, requests] of Object.entries(req.RequestItems ?? {})) {
        const table = strongTable(name);
        if (table === undefined) continue;
        for (const r of requests) {
          const put = r.PutRequest?.Item;
          const del = r.DeleteRequest?.Key;
          if (put !== undefined) items.push(itemWrite(table, put, { put }));
          else if (del !== undefined) items.push(itemWrite(table, del, "deleted"));
        }
      }
      return items.length > 0 ? { kind: "write", items } : { kind: "pass" };
    }
    case "TransactWriteItems":
    case "TransactGetItems": {
      for (const entry of req.TransactItems ?? []) {
        for (const action of Object.values(entry)) {
          if (strongTable(action?.TableName) !== undefined)
            return { kind: "refuse", table: String(action.TableName), what: op };
        }
      }
      return { kind: "pass" };
    }
    case "ExecuteStatement":
    case "BatchExecuteStatement":
    case "ExecuteTransaction": {
      const statements = [
        req.Statement,
        ...[...(req.Statements ?? []), ...(req.TransactStatements ?? [])].map((s) => s.Statement),
      ];
      for (const s of statements) {
        if (typeof s !== "string") continue;
        for (const name of strong.keys())
          if (s.includes(name)) return { kind: "refuse", table: name, what: op };
      }
      return { kind: "pass" };
    }
    default:
      return { kind: "pass" };
  }
}

/** DynamoDB's refusal of an operation MRSC tables do not take. */
export function refusal(op: { table: string; what: string }): DynamoAnswer {
  const why =
    op.what.startsWith("Transact") || op.what === "ExecuteTransaction"
      ? "transactions are not supported on tables with multi-Region strong consistency"
      : "the sandbox's MRSC front does not play PartiQL on tables with multi-Region strong consistency; use the item operations";
  return dynamoError(400, "ValidationException", `${op.what} on ${op.table}: ${why}`);
}

/** Headers a DynamoDB request needs on its way to DynamoDB Local. */
const FORWARDED = [
  "content-type",
  "x-amz-target",
  "authorization",
  "x-amz-date",
  "x-amz-security-token",
];

/** Sends a request unchanged to a DynamoDB Local endpoint and returns its answer. */
export async function forward(
  endpoint: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  timeoutMs = 10_000,
): Promise<DynamoAnswer> {
  const out: Record<string, string> = {};
  for (const h of FORWARDED) {
    const v = headers[h];
    if (typeof v === "string") out[h] = v;
  }
  const res = await fetch(endpoint, {
    method: "POST",
    headers: out,
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return {
    status: res.status,
    body: await res.text(),
    contentType: res.headers.get("content-type") ?? JSON_TYPE,
  };
}

/** The keys of a BatchWriteItem the engine left unprocessed (they were not written). */
export function unprocessedIds(
  answer: DynamoAnswer,
  strong: ReadonlyMap<string, TableKey>,
): Set<string> {
  const ids = new Set<string>();
  try {
    const parsed = JSON.parse(answer.body) as RequestShape & {
      UnprocessedItems?: RequestShape["RequestItems"];
    };
    for (const [name, requests] of Object.entries(parsed.UnprocessedItems ?? {})) {
      const table = strong.get(name);
      if (table === undefined) continue;
      for (const r of requests) {
        const image = r.PutRequest?.Item ?? r.DeleteRequest?.Key;
        if (image !== undefined) ids.add(itemWrite(table, image).id);
      }
    }
  } catch {
    // not JSON: nothing to exclude
  }
  return ids;
}
