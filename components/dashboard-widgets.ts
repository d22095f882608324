/**
 * Small typed builders for CloudWatch dashboard bodies (the `DashboardBody` JSON the
 * PutDashboard API takes), so a dashboard is a list of typed widgets instead of a pasted blob.
 * Pure functions: the tests read what they produce.
 */

/** Statistics CloudWatch accepts in a metric widget (percentiles as `p50`, `p99.9`). */
export type Stat = "Average" | "Maximum" | "Minimum" | "Sum" | "SampleCount" | `p${number}`;

/** One metric line of a graph. */
export interface MetricLine {
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension name to value, in the order CloudWatch shows them. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat?: Stat;
  readonly label?: string;
  /** Region of this metric when it differs from the widget's. */
  readonly region?: string;
  /** Id to use the line in an expression (lowercase first letter). */
  readonly id?: string;
  /** Hide the line (still usable by expressions). @default true */
  readonly visible?: boolean;
  readonly yAxis?: "left" | "right";
}

/** A metric math line, e.g. `100 * errors / requests`. */
export interface ExpressionLine {
  readonly expression: string;
  readonly label: string;
  readonly id: string;
  readonly yAxis?: "left" | "right";
}

export type Line = MetricLine | ExpressionLine;

/** A widget as the dashboard body holds it. */
export interface Widget {
  readonly type: "metric" | "text";
  readonly width: number;
  readonly height: number;
  readonly x?: number;
  readonly y?: number;
  readonly properties: Record<string, unknown>;
}

export interface MetricWidgetOptions {
  readonly title: string;
  /** Region the widget queries (each line may override it). */
  readonly region: string;
  readonly lines: readonly Line[];
  /** Default statistic of the lines. @default "Average" */
  readonly stat?: Stat;
  /** Seconds per data point. @default 60 */
  readonly period?: number;
  readonly view?: "timeSeries" | "singleValue" | "bar";
  readonly stacked?: boolean;
  /** Label of the left axis, e.g. "ms". */
  readonly unit?: string;
  /** A horizontal line, e.g. an alarm threshold. */
  readonly threshold?: { readonly value: number; readonly label: string };
  /** Width on the 24-column grid. @default 12 */
  readonly width?: number;
  /** @default 6 */
  readonly height?: number;
}

const GRID_COLUMNS = 24;

function isExpression(line: Line): line is ExpressionLine {
  return "expression" in line;
}

/** A line in the array form CloudWatch stores: `[ns, name, dim, value, ..., { options }]`. */
export function metricArray(line: Line): unknown[] {
  if (isExpression(line)) {
    return [
      {
        expression: line.expression,
        label: line.label,
        id: line.id,
        ...(line.yAxis ? { yAxis: line.yAxis } : {}),
      },
    ];
  }
  if (line.id !== undefined && !/^[a-z][A-Za-z0-9_]*$/.test(line.id)) {
    throw new Error(
      `metric id must start with a lowercase letter and use letters, digits, _: got ${line.id}`,
    );
  }
  const options: Record<string, unknown> = {};
  if (line.stat) options["stat"] = line.stat;
  if (line.label) options["label"] = line.label;
  if (line.region) options["region"] = line.region;
  if (line.id) options["id"] = line.id;
  if (line.visible === false) options["visible"] = false;
  if (line.yAxis) options["yAxis"] = line.yAxis;
  const dims = Object.entries(line.dimensions).flat();
  return [
    line.namespace,
    line.metricName,
    ...dims,
    ...(Object.keys(options).length ? [options] : []),
  ];
}

/** A graph (or single value) of metric lines. */
export function metricWidget(options: MetricWidgetOptions): Widget {
  if (options.lines.length === 0) throw new Error(`widget ${options.title} has no metric`);
  const ids = options.lines.map((l) => l.id).filter((id): id is string => id !== undefined);
  if (new Set(ids).size !== ids.length) {
    throw new Error(`widget ${options.title} repeats a metric id: ${ids.join(", ")}`);
  }
  const width = options.width ?? 12;
  if (!Number.isInteger(width) || width < 1 || width > GRID_COLUMNS) {
    throw new Error(`widget width must be 1-${GRID_COLUMNS}: got ${width}`);
  }
  return {
    type: "metric",
    width,
    height: options.height ?? 6,
    properties: {
      title: options.title,
      region: options.region,
      view: options.view ?? "timeSeries",
      stacked: options.stacked ?? false,
      stat: options.stat ?? "Average",
      period: options.period ?? 60,
      metrics: options.lines.map(metricArray),
      ...(options.unit ? { yAxis: { left: { label: options.unit, showUnits: false } } } : {}),
      ...(options.threshold
        ? {
            annotations: {
              horizontal: [{ value: options.threshold.value, label: options.threshold.label }],
            },
          }
        : {}),
    },
  };
}

/** A Markdown note, full width by default. */
export function textWidget(markdown: string, width = GRID_COLUMNS, height = 2): Widget {
  return { type: "text", width, height, properties: { markdown } };
}

/** Places widgets left to right, top to bottom, on the 24-column grid. */
export function layout(widgets: readonly Widget[]): Widget[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return widgets.map((w) => {
    if (x + w.width > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = { ...w, x, y };
    x += w.width;
    rowHeight = Math.max(rowHeight, w.height);
    return placed;
  });
}

/** The dashboard body JSON for a list of widgets, laid out. */
export function dashboardBody(widgets: readonly Widget[]): string {
  return JSON.stringify({ widgets: layout(widgets) });
}
