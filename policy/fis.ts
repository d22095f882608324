/**
 * FIS guardrail: an experiment template must stop on its own when the service hurts (a CloudWatch
 * alarm stop condition, never `none`), end on its own (every action has a duration, at most an
 * hour), and leave a record (experiment logging). A drill never leaves a fault in place.
 */
import { T, get, list, type ResourceRule } from "./rules";

/** The longest action a template may run. */
export const FIS_MAX_ACTION_MINUTES = 60;

/** Minutes of an ISO 8601 duration of the forms FIS documents (PT10M, PT1H, PT90S); else NaN. */
export function isoDurationMinutes(iso: unknown): number {
  const m = typeof iso === "string" ? /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso) : null;
  if (!m || (!m[1] && !m[2] && !m[3])) return NaN;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 60;
}

export const fisExperimentGuarded: ResourceRule = {
  name: "fis-experiment-guarded",
  description: `Every FIS experiment template has a CloudWatch alarm stop condition (no "none"), a duration of at most ${FIS_MAX_ACTION_MINUTES} minutes on every action, and experiment logging.`,
  types: [T.fisTemplate],
  check: (r) => {
    const problems: string[] = [];
    const where = `experiment template ${r.name}`;
    const stops = list(get(r.props, "stopConditions"));
    const alarms = stops.filter(
      (s) => get(s, "source") === "aws:cloudwatch:alarm" && typeof get(s, "value") === "string",
    );
    if (alarms.length === 0 || alarms.length !== stops.length) {
      problems.push(
        `${where}: needs CloudWatch alarm stop conditions only (got ${JSON.stringify(stops)})`,
      );
    }
    for (const action of list(get(r.props, "actions"))) {
      const duration = list(get(action, "parameters")).find((p) => get(p, "key") === "duration");
      const minutes = isoDurationMinutes(get(duration, "value"));
      if (!(minutes > 0 && minutes <= FIS_MAX_ACTION_MINUTES)) {
        problems.push(
          `${where}: action ${get(action, "name")} has no duration of at most ${FIS_MAX_ACTION_MINUTES} minutes (got ${JSON.stringify(get(duration, "value"))})`,
        );
      }
    }
    const logs = get(r.props, "logConfiguration");
    if (!get(logs, "cloudwatchLogsConfiguration", "logGroupArn") && !get(logs, "s3Configuration")) {
      problems.push(`${where}: no logConfiguration (experiments would leave no record)`);
    }
    return problems;
  },
};
