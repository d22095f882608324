/**
 * The rules between config keys, checked once every key is valid on its own: stacks named in
 * peerStacks, keys that go together, regions that must or must not differ, the KMS keys a stack
 * needs, the MRSC rules of consistency strong, and the routing keys. Each problem is a message
 * naming the key.
 */
import { FAILOVER_DNS_DEFAULTS, eventualWitnessProblem, mrscProblems } from "resilient-dynamo";
import { CANARY_ORDER_ID, CANARY_PRODUCT_ID } from "../functions/domain/canary-data";
import { TABLES } from "../functions/tables";
import {
  describeValue,
  kmsKeyRegion,
  PROJECT,
  type ConfigKeys,
  type PrimaryKeys,
} from "./config-schema";

/**
 * Every cross-key problem of a stack's parsed keys, in its region `awsRegion`; `stack` is the
 * stack's own name (peerStacks must not list it).
 */
export function crossKeyProblems(cfg: ConfigKeys, awsRegion: string, stack: string): string[] {
  return [
    ...peerStackProblems(cfg, stack),
    ...routingProblems(cfg),
    ...pairedKeyProblems(cfg),
    ...kmsProblems(cfg, awsRegion),
    ...observerRegionProblems(cfg, awsRegion),
    ...(cfg.role === "primary"
      ? [...consistencyProblems(cfg, awsRegion), ...replicaRegionProblems(cfg, awsRegion)]
      : []),
  ];
}

/** `peerStacks`: each stack once, and never this stack itself. */
function peerStackProblems(cfg: ConfigKeys, stack: string): string[] {
  const problems: string[] = [];
  const peers = new Set<string>();
  for (const p of cfg.peerStacks) {
    if (peers.has(p)) problems.push(`${PROJECT}:peerStacks: duplicate stack ${p}`);
    if (p === stack)
      problems.push(
        `${PROJECT}:peerStacks: names this stack itself (${p}); list only the other region stacks`,
      );
    peers.add(p);
  }
  return problems;
}

/** Keys set together or not at all: domainName and hostedZoneId (without routing), the canary ids. */
function pairedKeyProblems(cfg: ConfigKeys): string[] {
  const problems: string[] = [];
  if (
    cfg.routing === "none" &&
    (cfg.domainName === undefined) !== (cfg.hostedZoneId === undefined)
  ) {
    problems.push(
      `${PROJECT}:domainName and ${PROJECT}:hostedZoneId go together: got domainName ${describeValue(cfg.domainName)} and hostedZoneId ${describeValue(cfg.hostedZoneId)}`,
    );
  }
  if ((cfg.canaryOrderId === undefined) !== (cfg.canaryProductId === undefined)) {
    problems.push(
      `${PROJECT}:canaryOrderId and ${PROJECT}:canaryProductId go together (the canaries read both): got canaryOrderId ${describeValue(cfg.canaryOrderId)} and canaryProductId ${describeValue(cfg.canaryProductId)}; ` +
        `unset both to read the canary items the primary stack writes (${CANARY_ORDER_ID}, ${CANARY_PRODUCT_ID})`,
    );
  }
  return problems;
}

/** `observerRegion`: outside every app region (the stack's own and, on the primary, its replicas). */
function observerRegionProblems(cfg: ConfigKeys, awsRegion: string): string[] {
  if (cfg.observerRegion === undefined) return [];
  const appRegions = [awsRegion, ...(cfg.role === "primary" ? cfg.replicaRegions : [])];
  if (!appRegions.includes(cfg.observerRegion)) return [];
  return [
    `${PROJECT}:observerRegion must differ from the app regions (${appRegions.join(", ")}): got ${cfg.observerRegion}`,
  ];
}

/** `replicaRegions`: each region once, and never the stack's own region. */
function replicaRegionProblems(cfg: PrimaryKeys, awsRegion: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of cfg.replicaRegions) {
    if (r === awsRegion)
      problems.push(
        `${PROJECT}:replicaRegions: contains the stack's own region ${r}; list only peer regions`,
      );
    if (seen.has(r)) problems.push(`${PROJECT}:replicaRegions: duplicate replica region ${r}`);
    seen.add(r);
  }
  return problems;
}

/** `kmsKeyArns`: one key per region, and a key for every region this stack puts data in. */
function kmsProblems(cfg: ConfigKeys, awsRegion: string): string[] {
  if (cfg.kmsKeyArns === undefined) return [];
  const problems: string[] = [];
  const key = `${PROJECT}:kmsKeyArns`;
  const seen = new Set<string>();
  for (const arn of cfg.kmsKeyArns) {
    const r = kmsKeyRegion(arn);
    if (seen.has(r)) problems.push(`${key}: two keys for region ${r}; give one key per region`);
    seen.add(r);
  }
  const needed = [
    awsRegion,
    ...(cfg.role === "primary" ? cfg.replicaRegions : []),
    ...(cfg.observerRegion !== undefined ? [cfg.observerRegion] : []),
  ];
  const missing = [...new Set(needed)].filter((r) => !seen.has(r));
  if (missing.length) {
    problems.push(
      `${key}: has no key for ${missing.join(", ")}; this stack keeps data there (list one key ARN per region, or unset the key for AWS-managed keys)`,
    );
  }
  return problems;
}

/**
 * The MRSC rules (components/mrsc.ts) on the primary's regions, as messages naming the key:
 * exactly three regions with witnessRegion, one MRSC Region set, no witness in eventual mode.
 */
function consistencyProblems(cfg: PrimaryKeys, awsRegion: string): string[] {
  const found =
    cfg.consistency === "strong"
      ? mrscProblems({
          region: awsRegion,
          replicaRegions: cfg.replicaRegions,
          witnessRegion: cfg.witnessRegion,
          strongTablesWithTtl: TABLES.filter((t) => t.strong && t.ttlAttribute).map((t) => t.key),
        })
      : eventualWitnessProblem(cfg.witnessRegion);
  return found.map((p) => `${PROJECT}:${p.key === "tables" ? "consistency" : p.key}: ${p.message}`);
}

/** The cross-key rules of the routing keys, as messages naming the key. */
function routingProblems(cfg: ConfigKeys): string[] {
  const problems: string[] = [];
  const key = (k: string) => `${PROJECT}:${k}`;
  if (cfg.routing === "none") {
    for (const k of ["routingPolicy", "failoverPrimaryRegion"] as const) {
      if (cfg[k] !== undefined) {
        problems.push(
          `${key(k)}: only valid on the stack that owns routing (routing arc or healthcheck); this stack has routing none`,
        );
      }
    }
  } else {
    const why = `routing is ${cfg.routing}`;
    if (cfg.domainName === undefined) {
      problems.push(
        `${key("domainName")}: is required when ${why}: the service name the records answer for, e.g. orders.example.com`,
      );
    }
    if (cfg.hostedZoneId === undefined) {
      problems.push(
        `${key("hostedZoneId")}: is required when ${why}: the public hosted zone of domainName`,
      );
    }
    if (cfg.peerStacks.length === 0) {
      problems.push(
        `${key("peerStacks")}: routing spans regions: list the other region stacks, e.g. [region1]; got none`,
      );
    }
    if (cfg.routingPolicy === "failover") {
      if (cfg.failoverPrimaryRegion === undefined) {
        problems.push(
          `${key("failoverPrimaryRegion")}: is required when routingPolicy is failover`,
        );
      }
      if (cfg.peerStacks.length > 1) {
        problems.push(
          `${key("routingPolicy")}: failover takes exactly two regions (one PRIMARY, one SECONDARY), this stack and one peer: got ${cfg.peerStacks.length} peer stacks; use latency`,
        );
      }
    } else if (cfg.failoverPrimaryRegion !== undefined) {
      problems.push(
        `${key("failoverPrimaryRegion")}: only valid when routingPolicy is failover (got ${cfg.routingPolicy ?? FAILOVER_DNS_DEFAULTS.routingPolicy})`,
      );
    }
  }
  if (cfg.chaosExperiments) {
    if (cfg.routing === "none") {
      problems.push(
        `${key("chaosExperiments")}: only valid on the stack that owns routing (routing arc or healthcheck); this stack has routing none: set it on that stack`,
      );
    }
    if (!cfg.fisLambdaExtension) {
      problems.push(
        `${key("chaosExperiments")}: needs ${key("fisLambdaExtension")} true on this stack (its functions are fault targets too), and on every stack in peerStacks`,
      );
    }
  }
  if (cfg.vpcId !== undefined && cfg.zoneType !== "private") {
    problems.push(`${key("vpcId")}: only used with zoneType private; this stack's zone is public`);
  }
  return problems;
}
