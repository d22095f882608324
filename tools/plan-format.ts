/**
 * The plan as `npm run plan` prints it: the resource tree by component, counts by type, the
 * stack references and the cost estimate, for people (`formatPlan`) and for machines
 * (`planJson`, `--json`). Deterministic: everything sorted, no times.
 */
import { estimateCost } from "./cost-estimate";
import type { RecordedResource } from "./mock-engine";
import type { StackPlan } from "./planner";
import { HOURS_PER_MONTH, PRICES, PRICES_CHECKED } from "./prices";

export interface TreeNode {
  readonly resource: RecordedResource;
  readonly children: TreeNode[];
}

const byTypeThenName = (a: TreeNode, b: TreeNode): number =>
  a.resource.type.localeCompare(b.resource.type) || a.resource.name.localeCompare(b.resource.name);

/** Resources under their parents (by URN), children sorted by type then name. */
export function buildTree(resources: readonly RecordedResource[]): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  for (const r of resources) nodes.set(r.urn, { resource: r, children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.resource.parent ? nodes.get(node.resource.parent) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const sort = (list: TreeNode[]): void => {
    list.sort(byTypeThenName);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

export function formatTree(roots: readonly TreeNode[], stackRegion: string): string[] {
  const lines: string[] = [];
  const walk = (nodes: readonly TreeNode[], prefix: string): void => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      const r = node.resource;
      const where =
        r.type.startsWith("aws:") && r.region && r.region !== stackRegion ? `  (${r.region})` : "";
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${where}`);
      walk(node.children, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  walk(roots, "");
  return lines;
}

/** Resource counts by type token, sorted by type. */
export function countByType(resources: readonly { type: string }[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function money(usd: number): string {
  const [whole, frac] = usd.toFixed(2).split(".");
  return `$${(whole as string).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${frac}`;
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) =>
        rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join("  ")
      .trimEnd(),
  );
}

/** The plan as people read it. Deterministic: everything sorted, no times. */
export function formatPlan(plan: StackPlan): string {
  const out: string[] = [];
  const count = plan.resources.length;
  out.push(`Plan for stack ${plan.stack} (${plan.region}): ${count} resources to create`);
  out.push(
    "Evaluated offline with Pulumi mocks (tools/mock-engine.ts); ids and ARNs in outputs are mock values.",
  );
  const witness = plan.outputs["witnessRegion"];
  out.push(
    `Consistency: ${String(plan.outputs["consistency"] ?? "eventual")}` +
      (typeof witness === "string" ? `, witness ${witness}` : ""),
  );

  out.push("", "Stack references");
  if (plan.references.length === 0) out.push("  none");
  for (const ref of plan.references) {
    out.push(
      `  ${ref.stack} reads ${ref.reference} (planned from Pulumi.${ref.from}.yaml): ${ref.outputs.join(", ")}`,
    );
  }

  out.push("", "Resource tree");
  for (const line of formatTree(buildTree(plan.resources), plan.region)) out.push(`  ${line}`);

  out.push("", "Resources by type");
  const counts = countByType(plan.resources);
  for (const line of table(
    [...counts.map(([type, n]) => [String(n), type]), [String(count), "total"]],
    new Set([0]),
  )) {
    out.push(`  ${line}`);
  }

  const cost = estimateCost(plan.resources);
  out.push(
    "",
    `Fixed monthly cost estimate (USD list prices, us-east-1, checked ${PRICES_CHECKED}; ` +
      `${HOURS_PER_MONTH} hours a month; tools/prices.ts)`,
  );
  if (cost.lines.length === 0) {
    out.push("  nothing billed by the hour, month or run");
  } else {
    const rows = cost.lines.map((l) => [String(l.count), l.type, l.basis, money(l.monthlyUsd)]);
    rows.push(["", "total", "", money(cost.totalMonthlyUsd)]);
    for (const line of table(rows, new Set([0, 3]))) out.push(`  ${line}`);
  }
  if (cost.unconfirmed.length > 0) {
    out.push(
      `  Not confirmed on the AWS pricing page: ${cost.unconfirmed.join(", ")} (see tools/prices.ts).`,
    );
  }
  out.push("", "Not estimated: usage-based");
  if (cost.usageBased.length === 0) out.push("  none");
  for (const line of table(
    cost.usageBased.map((u) => [String(u.count), u.type, u.drivers]),
    new Set([0]),
  )) {
    out.push(`  ${line}`);
  }
  if (cost.unpriced.length > 0) {
    out.push("", "Not priced (add them to tools/prices.ts)");
    for (const line of table(
      cost.unpriced.map((u) => [String(u.count), u.type, u.why]),
      new Set([0]),
    )) {
      out.push(`  ${line}`);
    }
  }
  out.push("", "No charge of their own");
  if (cost.noCharge.length === 0) out.push("  none");
  for (const line of table(
    cost.noCharge.map((f) => [String(f.count), f.type]),
    new Set([0]),
  )) {
    out.push(`  ${line}`);
  }
  return out.join("\n");
}

/** The plan for machines (`--json`). */
export function planJson(plan: StackPlan): Record<string, unknown> {
  const cost = estimateCost(plan.resources);
  return {
    stack: plan.stack,
    region: plan.region,
    evaluated: plan.evaluated,
    resourceCount: plan.resources.length,
    resources: [...plan.resources]
      .sort((a, b) => a.urn.localeCompare(b.urn))
      .map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        parent: r.parent ?? null,
        region: r.region ?? null,
      })),
    counts: Object.fromEntries(countByType(plan.resources)),
    references: plan.references,
    cost: {
      pricesChecked: PRICES_CHECKED,
      hoursPerMonth: HOURS_PER_MONTH,
      ...cost,
      unconfirmed: cost.unconfirmed.map((k) => ({ key: k, ...PRICES[k] })),
    },
  };
}
