/**
 * The product catalogue: one product by id, or a paged list. The page cursor is opaque to
 * clients: base64url of the scan's LastEvaluatedKey, checked strictly on the way back in so a
 * forged cursor cannot steer the scan anywhere but a product key.
 */
import { DomainError, badRequest } from "./errors";
import type { ProductItem } from "./model";
import { ID_MAX_LENGTH, ID_PATTERN } from "./validation";

/** Page size when the client does not ask for one. */
export const PRODUCTS_PAGE_DEFAULT = 25;
/** Largest page a client may ask for. */
export const PRODUCTS_PAGE_MAX = 100;
/** Query parameters of `GET /products`. */
export const LIST_PRODUCTS_PARAMS = ["limit", "cursor"] as const;

/** Where a scan resumes: the products table's key. */
export interface ProductKey {
  readonly ProductId: string;
}

// A cursor encodes {"ProductId":"<id>"}; anything longer cannot be one of ours.
const CURSOR_MAX_LENGTH = Math.ceil(((ID_MAX_LENGTH + 20) * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Encodes a scan position as an opaque, URL-safe cursor. */
export function encodeCursor(key: ProductKey): string {
  return Buffer.from(JSON.stringify({ ProductId: key.ProductId }), "utf8").toString("base64url");
}

/** Decodes a cursor made by `encodeCursor`; anything else is a 400 naming `cursor`. */
export function decodeCursor(cursor: string): ProductKey {
  const invalid = (): DomainError => badRequest("cursor", "is not a cursor returned by this API");
  if (cursor.length === 0 || cursor.length > CURSOR_MAX_LENGTH || !BASE64URL.test(cursor)) {
    throw invalid();
  }
  const bytes = Buffer.from(cursor, "base64url");
  // Node decodes leniently; insist on the canonical form so one position has one cursor.
  if (bytes.toString("base64url") !== cursor) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid();
  const keys = Object.keys(parsed);
  const id: unknown = (parsed as Record<string, unknown>).ProductId;
  if (
    keys.length !== 1 ||
    typeof id !== "string" ||
    id.length > ID_MAX_LENGTH ||
    !ID_PATTERN.test(id)
  ) {
    throw invalid();
  }
  return { ProductId: id };
}

export interface ProductPage {
  readonly items: ProductItem[];
  /** Present when there may be more products; pass it back to get the next page. */
  readonly cursor?: string;
}

export interface ProductStore {
  get(productId: string): Promise<ProductItem | undefined>;
  scan(
    limit: number,
    startKey: ProductKey | undefined,
  ): Promise<{ items: ProductItem[]; lastKey?: ProductKey | undefined }>;
}

/** One product, or 404 ProductNotFound. */
export async function getProduct(store: ProductStore, productId: string): Promise<ProductItem> {
  const product = await store.get(productId);
  if (!product) throw new DomainError("ProductNotFound", `product ${productId} not found`);
  return product;
}

/** One page of products, in table order, with a cursor for the next page when there may be one. */
export async function listProducts(
  store: ProductStore,
  limit: number,
  cursor: string | undefined,
): Promise<ProductPage> {
  const startKey = cursor === undefined ? undefined : decodeCursor(cursor);
  const { items, lastKey } = await store.scan(limit, startKey);
  return lastKey === undefined ? { items } : { items, cursor: encodeCursor(lastKey) };
}
