/**
 * Stands in for `@aws-sdk/endpoint-cache` inside bundled Lambda code (see
 * `BundleOptions.trimForLambda`). The DynamoDB client builds one at construction for endpoint
 * discovery, but none of its commands adds the discovery middleware that would read it, so the
 * cache (and the LRU library under it) is never used. Any use fails loudly rather than silently
 * caching nothing.
 */

function unavailable(): never {
  throw new Error("endpoint discovery is not bundled (bundleFunction trimForLambda)");
}

export class EndpointCache {
  constructor(_capacity?: number) {}
  getEndpoint(_key: string): never {
    return unavailable();
  }
  get(_key: string): never {
    return unavailable();
  }
  set(_key: string, _endpoints: unknown): never {
    return unavailable();
  }
  delete(_key: string): never {
    return unavailable();
  }
  has(_key: string): never {
    return unavailable();
  }
  clear(): never {
    return unavailable();
  }
}
