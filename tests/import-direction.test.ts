/**
 * Imports run one way: tests -> tools -> local -> functions, and the program (index.ts) -> stack/
 * -> components. Read from the import graph of every TypeScript file git tracks.
 * The component package (components/) imports nothing of the repository; everything else imports
 * it by its npm name, `resilient-dynamo`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { expect } from "chai";
import * as ts from "typescript";

const ROOT = join(__dirname, "..");

/** Layer of a repository path: its top folder, or `program` for a file at the root. */
function layer(path: string): string {
  const top = path.split("/")[0] as string;
  return path.includes("/") ? top : "program";
}

/** What each layer may import, besides itself and npm packages. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  functions: [],
  local: ["functions"],
  tools: ["local", "functions", "components", "stack", "program", "policy"],
  policy: [],
  // The component package imports nothing of the repository (the program binds it).
  components: [],
  // stack/ binds the service (functions/) to the component package; it never imports index.ts.
  stack: ["components", "functions"],
  program: ["stack", "components", "functions"],
  // A program of another team, using the package as an outsider would.
  examples: ["components"],
  tests: ["tools", "local", "functions", "components", "stack", "program", "policy", "examples"],
};

/**
 * The one import across layers that goes against the list above: any layer may import the
 * package's pure `regions` module by name, so one region pattern serves the program, the sandbox,
 * the tools and the Lambda and canary code. Nothing else of the package.
 */
const REGIONS_MODULE = "components/regions";

interface Edge {
  readonly from: string;
  readonly to: string;
  /** Imported by package name (`resilient-dynamo`) rather than by a relative path. */
  readonly byName?: boolean;
}

function importGraph(): Edge[] {
  const files = execFileSync("git", ["ls-files", "*.ts", "*.mts"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && !f.endsWith(".d.ts"));
  return files.flatMap((from) =>
    ts
      .preProcessFile(readFileSync(join(ROOT, from), "utf8"), true, true)
      .importedFiles.map((i) => i.fileName)
      .flatMap((spec): Edge[] => {
        // The component package, imported by its npm name, is the components/ folder.
        const pkg = /^resilient-dynamo(\/.*)?$/.exec(spec);
        if (pkg) return [{ from, to: `components${pkg[1] ?? "/index"}`, byName: true }];
        if (!spec.startsWith(".")) return [];
        const to = normalize(relative(ROOT, join(ROOT, dirname(from), spec)));
        return [{ from, to, byName: false }];
      }),
  );
}

/**
 * Every import from one layer into another that the layer may not import. The package's region
 * pattern (`resilient-dynamo/regions`, no Pulumi import) is the one every layer checks with.
 */
function violations(edges: readonly Edge[]): string[] {
  return edges
    .filter((e) => layer(e.from) !== layer(e.to))
    .filter((e) => !(e.to === REGIONS_MODULE && e.byName))
    .filter((e) => !(ALLOWED[layer(e.from)] ?? []).includes(layer(e.to)))
    .map((e) => `${e.from} -> ${e.to}`);
}

describe("imports run one way", () => {
  const edges = importGraph();

  it("reads the graph (the check can see imports)", () => {
    expect(edges.length).to.be.greaterThan(300);
    expect(edges).to.deep.include({
      from: "local/sandbox.ts",
      to: "local/replicator",
      byName: false,
    });
    expect(edges).to.deep.include({ from: "index.ts", to: "components/index", byName: true });
  });

  it("each layer imports only the layers below it", () => {
    expect(violations(edges)).to.deep.equal([]);
  });

  it("outside its own folder and the tests, the component package is imported by its name", () => {
    const wrong = edges
      .filter((e) => layer(e.to) === "components" && !e.byName)
      .filter((e) => !["components", "tests"].includes(layer(e.from)))
      .map((e) => `${e.from} -> ${e.to}`);
    expect(wrong).to.deep.equal([]);
  });

  it("no product module imports tests/", () => {
    const wrong = edges.filter((e) => layer(e.to) === "tests" && layer(e.from) !== "tests");
    expect(wrong).to.deep.equal([]);
  });

  it("the layer check reports imports against the direction", () => {
    expect(
      violations([
        { from: "functions/app.ts", to: "local/sandbox" },
        { from: "local/sandbox.ts", to: "tools/drill" },
        { from: "components/bundle.ts", to: "stack/routing" },
        { from: "components/global-table-set.ts", to: "functions/tables" },
        { from: "local/sandbox.ts", to: "local/replicator" },
        { from: "local/sandbox.ts", to: "components/regions", byName: true },
        { from: "local/sandbox.ts", to: "components/index", byName: true },
        { from: "stack/routing.ts", to: "index" },
        { from: "index.ts", to: "stack/config" },
        { from: "functions/canary/check.ts", to: "components/regions", byName: true },
        { from: "functions/canary/check.ts", to: "components/index", byName: true },
        { from: "functions/canary/check.ts", to: "components/validate", byName: true },
        { from: "functions/canary/check.ts", to: "components/regions", byName: false },
      ]),
    ).to.deep.equal([
      "functions/app.ts -> local/sandbox",
      "local/sandbox.ts -> tools/drill",
      "components/bundle.ts -> stack/routing",
      "components/global-table-set.ts -> functions/tables",
      "local/sandbox.ts -> components/index",
      "stack/routing.ts -> index",
      "functions/canary/check.ts -> components/index",
      "functions/canary/check.ts -> components/validate",
      "functions/canary/check.ts -> components/regions",
    ]);
  });

  it("functions/ import the package's regions module only, and the canary does", () => {
    const fromFunctions = edges.filter(
      (e) => layer(e.from) === "functions" && layer(e.to) === "components",
    );
    expect(fromFunctions.map((e) => e.to)).to.include(REGIONS_MODULE);
    expect(fromFunctions.filter((e) => e.to !== REGIONS_MODULE || !e.byName)).to.deep.equal([]);
    expect(edges).to.deep.include({
      from: "functions/canary/check.ts",
      to: REGIONS_MODULE,
      byName: true,
    });
  });
});
