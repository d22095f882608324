/**
 * The cost estimate of `npm run plan`: how a recorded resource maps onto the price table
 * (tools/prices.ts), by its type and inputs (a health check's features, an alarm's metrics, a
 * canary's schedule, an FIS template's action-minutes), and the fixed monthly cost of a set of
 * resources, with what is billed by use, has no charge, or is not priced listed apart.
 */
import {
  HOURS_PER_MONTH,
  MINUTES_PER_MONTH,
  MRSC_TABLE_DRIVERS,
  NO_CHARGE,
  PRICES,
  USAGE_BASED,
  monthly,
  type PriceKey,
} from "./prices";

/** What one recorded resource costs, as the plan classifies it. */
export type Pricing =
  | {
      readonly kind: "fixed";
      /** USD per month for this resource. */
      readonly monthlyUsd: number;
      /** How the figure is made, e.g. "$0.75 + 2 features x $2.00". Resources with equal basis are one line. */
      readonly basis: string;
      readonly prices: readonly PriceKey[];
    }
  | { readonly kind: "usage"; readonly drivers: string }
  | { readonly kind: "free" }
  | { readonly kind: "unpriced"; readonly why: string };

export interface PricedResource {
  readonly type: string;
  readonly inputs: Readonly<Record<string, any>>;
}

/** "$2.50", "$0.045", "$0.0012": at least two decimals, as many as the price has (up to 4). */
export function usd(n: number): string {
  const [whole, frac = ""] = n.toFixed(4).replace(/0+$/, "").split(".");
  return `$${whole}.${frac.padEnd(2, "0")}`;
}

function fixedFrom(key: PriceKey, count = 1, label?: string): Pricing {
  const price = PRICES[key];
  const each = monthly(price);
  const per =
    price.unit === "hour"
      ? `${usd(price.usd)}/hour x ${HOURS_PER_MONTH} h`
      : `${usd(price.usd)}/month`;
  return {
    kind: "fixed",
    monthlyUsd: each * count,
    basis: count === 1 ? (label ?? per) : `${count} x ${label ?? per}`,
    prices: [key],
  };
}

/** Runs per month of a canary schedule, or a reason it cannot be counted. */
export function canaryRunsPerMonth(expression: unknown): number | string {
  if (typeof expression !== "string") return "no schedule expression";
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours)\s*\)$/.exec(expression.trim());
  if (!rate) {
    return expression.startsWith("cron(")
      ? `cron schedule ${expression} (runs per month not counted)`
      : `unrecognized schedule ${expression}`;
  }
  const n = Number(rate[1]);
  if (n === 0) return 0; // rate(0 minute): runs once when started
  const minutes = rate[2]?.startsWith("hour") ? n * 60 : n;
  return MINUTES_PER_MONTH / minutes;
}

function healthCheck(inputs: Readonly<Record<string, any>>): Pricing {
  const type = String(inputs["type"] ?? "");
  if (type === "RECOVERY_CONTROL" || type === "CALCULATED" || type === "CLOUDWATCH_METRIC") {
    return fixedFrom(
      "healthCheckAws",
      1,
      `${type} health check, ${usd(PRICES.healthCheckAws.usd)}/month`,
    );
  }
  const features: string[] = [];
  if (type.startsWith("HTTPS")) features.push("HTTPS");
  if (type.endsWith("_STR_MATCH")) features.push("string match");
  if (Number(inputs["requestInterval"] ?? 30) === 10) features.push("10 s interval");
  if (inputs["measureLatency"] === true) features.push("latency");
  const base = PRICES.healthCheckNonAws;
  const feature = PRICES.healthCheckFeatureNonAws;
  const monthlyUsd = base.usd + features.length * feature.usd;
  const extra = features.length
    ? ` + ${features.length} x ${usd(feature.usd)} (${features.join(", ")})`
    : "";
  return {
    kind: "fixed",
    monthlyUsd,
    basis: `${type} health check, ${usd(base.usd)}${extra}/month`,
    prices: features.length
      ? ["healthCheckNonAws", "healthCheckFeatureNonAws"]
      : ["healthCheckNonAws"],
  };
}

function alarm(inputs: Readonly<Record<string, any>>): Pricing {
  const queries = (inputs["metricQueries"] as Record<string, any>[] | undefined) ?? [];
  const anomaly = queries.some((q) => /ANOMALY_DETECTION_BAND/.test(String(q["expression"] ?? "")));
  const periods: number[] = queries.length
    ? queries.filter((q) => q["metric"]).map((q) => Number(q["metric"]["period"] ?? 60))
    : [Number(inputs["period"] ?? 60)];
  const metrics = periods.length * (anomaly ? 3 : 1);
  const high = periods.some((p) => p < 60);
  const key: PriceKey = high ? "alarmMetricHighResolution" : "alarmMetric";
  const each = PRICES[key].usd;
  return {
    kind: "fixed",
    monthlyUsd: metrics * each,
    basis: `${metrics} ${high ? "high-resolution " : ""}alarm metric${metrics === 1 ? "" : "s"} x ${usd(each)}/month${anomaly ? " (anomaly detection)" : ""}`,
    prices: [key],
  };
}

function canary(inputs: Readonly<Record<string, any>>): Pricing {
  const runs = canaryRunsPerMonth(inputs["schedule"]?.["expression"]);
  if (typeof runs === "string") return { kind: "unpriced", why: runs };
  const price = PRICES.canaryRun;
  return {
    kind: "fixed",
    monthlyUsd: price.usd * runs,
    basis: `${inputs["schedule"]["expression"]} = ${runs} runs x ${usd(price.usd)}`,
    prices: ["canaryRun"],
  };
}

/** Action-minutes of one run of an FIS experiment template: each action's duration, summed. */
export function fisActionMinutes(inputs: Readonly<Record<string, any>>): number | string {
  const actions = (inputs["actions"] as Record<string, any>[] | undefined) ?? [];
  let total = 0;
  for (const a of actions) {
    const d = ((a["parameters"] as { key: string; value: string }[] | undefined) ?? []).find(
      (p) => p.key === "duration",
    )?.value;
    const m = typeof d === "string" ? /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(d) : null;
    if (!m || (!m[1] && !m[2])) return `action ${a["name"]} has no duration in whole minutes`;
    total += Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
  }
  return total;
}

/** An FIS template costs nothing until an experiment runs; a run costs its action-minutes. */
function fisTemplate(inputs: Readonly<Record<string, any>>): Pricing {
  const minutes = fisActionMinutes(inputs);
  if (typeof minutes === "string") return { kind: "unpriced", why: minutes };
  const n = ((inputs["actions"] as unknown[] | undefined) ?? []).length;
  const price = PRICES.fisActionMinute;
  return {
    kind: "usage",
    drivers:
      `each experiment run: ${n} action${n === 1 ? "" : "s"}, ${minutes} action-minutes x ` +
      `${usd(price.usd)} = ${usd(minutes * price.usd)} at most (stopped early: less)`,
  };
}

/** Fixed prices by resource type token. */
const FIXED: Record<string, (inputs: Readonly<Record<string, any>>) => Pricing> = {
  "aws:route53recoverycontrol/cluster:Cluster": () => fixedFrom("arcCluster"),
  "aws:route53recoveryreadiness/readinessCheck:ReadinessCheck": () => fixedFrom("readinessCheck"),
  "aws:route53/healthCheck:HealthCheck": healthCheck,
  "aws:route53/zone:Zone": () => fixedFrom("hostedZone"),
  "aws:synthetics/canary:Canary": canary,
  "aws:cloudwatch/dashboard:Dashboard": () => fixedFrom("dashboard"),
  "aws:cloudwatch/metricAlarm:MetricAlarm": alarm,
  "aws:cloudwatch/compositeAlarm:CompositeAlarm": () => fixedFrom("compositeAlarm"),
  "aws:kms/key:Key": () => fixedFrom("kmsKey"),
  "aws:ec2/natGateway:NatGateway": () => fixedFrom("natGateway"),
  "aws:ec2/eip:Eip": () => fixedFrom("publicIpv4"),
  "aws:fis/experimentTemplate:ExperimentTemplate": fisTemplate,
  "aws:apigateway/stage:Stage": (inputs) =>
    inputs["cacheClusterEnabled"] === true
      ? { kind: "unpriced", why: "stage cache cluster (billed by the hour by size)" }
      : { kind: "free" },
};

function isMrsc(inputs: Readonly<Record<string, any>>): boolean {
  const replicas: unknown = inputs["replicas"];
  return (
    Array.isArray(replicas) &&
    replicas.some((r) => (r as { consistencyMode?: unknown })?.consistencyMode === "STRONG")
  );
}

/**
 * Whether a type is a deployable resource at all: components (`resilient-dynamo:*`, `awsx:*`),
 * providers and stack references cost nothing and are not listed in the cost section.
 */
export function isBillableType(type: string): boolean {
  return type.startsWith("aws:");
}

/** How one recorded resource is priced. */
export function priceOf(resource: PricedResource): Pricing {
  if (resource.type === "aws:dynamodb/table:Table" && isMrsc(resource.inputs)) {
    return { kind: "usage", drivers: MRSC_TABLE_DRIVERS };
  }
  const fixed = FIXED[resource.type];
  if (fixed) return fixed(resource.inputs);
  const usage = USAGE_BASED[resource.type];
  if (usage !== undefined) return { kind: "usage", drivers: usage };
  if (NO_CHARGE.has(resource.type)) return { kind: "free" };
  return { kind: "unpriced", why: "not in tools/prices.ts" };
}

export interface CostLine {
  readonly type: string;
  readonly basis: string;
  readonly count: number;
  /** USD per month for one resource on this line. */
  readonly unitMonthlyUsd: number;
  readonly monthlyUsd: number;
  readonly prices: readonly PriceKey[];
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly totalMonthlyUsd: number;
  readonly usageBased: readonly { type: string; count: number; drivers: string }[];
  readonly noCharge: readonly { type: string; count: number }[];
  readonly unpriced: readonly { type: string; count: number; why: string }[];
  /** Price table entries the lines used that were not confirmed on the AWS page. */
  readonly unconfirmed: readonly PriceKey[];
}

/** Cents, so that sums of many small prices do not drift. */
const cents = (usd: number): number => Math.round(usd * 100);

/** The fixed monthly cost of recorded resources, from the price table. */
export function estimateCost(
  resources: readonly { type: string; inputs: Readonly<Record<string, any>> }[],
): CostEstimate {
  const lines = new Map<string, CostLine>();
  const usage = new Map<string, { type: string; count: number; drivers: string }>();
  const free = new Map<string, number>();
  const unpriced = new Map<string, { type: string; count: number; why: string }>();
  for (const r of resources) {
    if (!isBillableType(r.type)) continue;
    const p = priceOf(r);
    if (p.kind === "fixed") {
      const key = `${r.type}\0${p.basis}`;
      const line = lines.get(key);
      lines.set(key, {
        type: r.type,
        basis: p.basis,
        count: (line?.count ?? 0) + 1,
        unitMonthlyUsd: p.monthlyUsd,
        monthlyUsd: (line?.monthlyUsd ?? 0) + p.monthlyUsd,
        prices: p.prices,
      });
    } else if (p.kind === "usage") {
      // One line per type and drivers: MRSC and MREC tables are billed differently, FIS
      // templates of other durations cost differently.
      const key = `${r.type}\0${p.drivers}`;
      const u = usage.get(key);
      usage.set(key, { type: r.type, count: (u?.count ?? 0) + 1, drivers: p.drivers });
    } else if (p.kind === "free") {
      free.set(r.type, (free.get(r.type) ?? 0) + 1);
    } else {
      const key = `${r.type}\0${p.why}`;
      const u = unpriced.get(key);
      unpriced.set(key, { type: r.type, count: (u?.count ?? 0) + 1, why: p.why });
    }
  }
  const sorted = [...lines.values()].sort(
    (a, b) => a.type.localeCompare(b.type) || a.basis.localeCompare(b.basis),
  );
  const used = new Set(sorted.flatMap((l) => l.prices));
  return {
    lines: sorted,
    totalMonthlyUsd: sorted.reduce((sum, l) => sum + cents(l.monthlyUsd), 0) / 100,
    usageBased: [...usage.values()].sort(
      (a, b) => a.type.localeCompare(b.type) || a.drivers.localeCompare(b.drivers),
    ),
    noCharge: [...free.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => ({ type, count })),
    unpriced: [...unpriced.values()].sort(
      (a, b) => a.type.localeCompare(b.type) || a.why.localeCompare(b.why),
    ),
    unconfirmed: (Object.keys(PRICES) as PriceKey[]).filter(
      (k) => used.has(k) && PRICES[k].verification !== "official",
    ),
  };
}
