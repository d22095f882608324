/**
 * When a REST API's stage must be redeployed. An API Gateway deployment is a snapshot of the
 * API's methods, integrations and gateway responses taken when it is created: a change to any of
 * them reaches clients only through a new deployment. `ApiRevision` collects the inputs of every
 * resource the snapshot depends on (and of the Lambda permissions the integrations need) and hashes
 * them all, resolved, so that the Deployment's `triggers` change whenever any of them does.
 *
 * Pulumi replaces the Deployment create-before-delete (never `deleteBeforeReplace`): the new
 * deployment exists, the Stage moves to it, and only then is the old one deleted, so the stage
 * always has a live deployment.
 *
 * One case the hash cannot fix: a route removed from the program. Pulumi deletes removed resources
 * at the end of an update, after the new deployment was created, so that deployment still holds the
 * removed method (pulumi/pulumi-aws#3289, #3683). `npm run plan -- <stack> --compare FILE` warns
 * about it, and README (Day 2 changes) gives the second step: `pulumi up --target-replace <urn of
 * the Deployment>`.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/** The inputs of one resource a deployment snapshot depends on, resolved. */
export interface RevisionPart {
  /** The resource's type token, e.g. `aws:apigateway/method:Method`. */
  readonly type: string;
  /** The resource's logical name. */
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** JSON with object keys sorted at every depth, so equal inputs always hash the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/** The hash of a set of resources' inputs, whatever order they were declared in. */
export function revisionHash(parts: readonly RevisionPart[]): string {
  const sorted = [...parts].sort((a, b) =>
    a.type === b.type ? (a.name < b.name ? -1 : 1) : a.type < b.type ? -1 : 1,
  );
  return createHash("sha256").update(canonicalJson(sorted)).digest("hex");
}

/** Collects the inputs a deployment snapshot depends on, as the resources are declared. */
export class ApiRevision {
  private readonly parts: { type: string; name: string; inputs: object }[] = [];

  /**
   * Records a resource's args under its type token and logical name and returns them unchanged,
   * so a declaration reads `new aws.apigateway.Method(id, revision.add(Method, id, {...}), opts)`.
   */
  add<T extends object>(type: string, name: string, inputs: T): T {
    this.parts.push({ type, name, inputs });
    return inputs;
  }

  /** The hash over every recorded resource's resolved inputs. */
  hash(): pulumi.Output<string> {
    return pulumi
      .all(
        this.parts.map((p) =>
          pulumi
            .output(p.inputs as Record<string, unknown>)
            .apply((inputs) => ({ type: p.type, name: p.name, inputs })),
        ),
      )
      .apply((parts) => revisionHash(parts as RevisionPart[]));
  }
}
