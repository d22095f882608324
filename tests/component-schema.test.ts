/**
 * The component package as `pulumi package add` sees it: @pulumi/pulumi's component provider
 * (provider/experimental) analyzes components/ offline and generates the package schema other
 * languages' SDKs are generated from. Every exported component must be in it, as
 * `resilient-dynamo:index:<Class>`, with every input, output and type documented.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { expect } from "chai";
import * as pkg from "resilient-dynamo";

const PACKAGE_DIR = join(__dirname, "..", "components");
const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as {
  name: string;
  version: string;
};

interface SchemaProperty {
  readonly description?: string;
}
interface SchemaObject {
  readonly description?: string;
  readonly properties?: Record<string, SchemaProperty>;
  readonly inputProperties?: Record<string, SchemaProperty>;
  readonly isComponent?: boolean;
}
interface PackageSchema {
  readonly name: string;
  readonly version: string;
  readonly resources: Record<string, SchemaObject>;
  readonly types: Record<string, SchemaObject & { enum?: unknown[] }>;
}

/** Every component, input, output and type property of the schema with no description, by path. */
export function undocumented(schema: PackageSchema): string[] {
  const missing: string[] = [];
  const check = (path: string, item: { description?: string }): void => {
    if (!item.description?.trim()) missing.push(path);
  };
  for (const [token, resource] of Object.entries(schema.resources)) {
    check(token, resource);
    for (const [k, p] of Object.entries(resource.inputProperties ?? {}))
      check(`${token} input ${k}`, p);
    for (const [k, p] of Object.entries(resource.properties ?? {}))
      check(`${token} output ${k}`, p);
  }
  // A type's own description is not in the schema: @pulumi/pulumi 3.248's generateSchema keeps
  // only its properties (each with its description), which is what the SDKs document.
  for (const [token, type] of Object.entries(schema.types)) {
    for (const [k, p] of Object.entries(type.properties ?? {})) check(`${token}.${k}`, p);
  }
  return missing;
}

describe("the component package's schema (pulumi package add)", function () {
  this.timeout(120_000);
  const components = getPulumiComponents(pkg);
  let schema: PackageSchema;

  before(async () => {
    const provider = new ComponentProvider({
      components,
      dirname: PACKAGE_DIR,
      // What the Node.js plugin host derives from package.json's name (cmd/run-plugin).
      name: manifest.name,
    });
    schema = JSON.parse(await provider.getSchema()) as PackageSchema;
  });

  it("is the package named and versioned by components/package.json", () => {
    expect(schema.name).to.equal("resilient-dynamo");
    expect(schema.version).to.equal(manifest.version);
  });

  it("has every exported component, under the type token the component registers", () => {
    const names = components.map((c) => c.name).sort();
    expect(names).to.include.members(["GlobalTableSet", "RegionalApi", "ArcControlPlane"]);
    expect(Object.keys(schema.resources).sort()).to.deep.equal(
      names.map((n) => `resilient-dynamo:index:${n}`),
    );
    for (const name of names) {
      expect(pkg.componentType(name)).to.equal(`resilient-dynamo:index:${name}`);
      expect(schema.resources[`resilient-dynamo:index:${name}`]?.isComponent, name).to.equal(true);
    }
  });

  it("documents every component, input, output and property of a type", () => {
    expect(Object.keys(schema.types).length).to.be.greaterThan(0);
    expect(undocumented(schema)).to.deep.equal([]);
  });
});

describe("the schema checks fail on what they guard", function () {
  this.timeout(120_000);

  it("finds what is undocumented", () => {
    const bad: PackageSchema = {
      name: "p",
      version: "1.0.0",
      resources: {
        "p:index:A": {
          description: "A.",
          inputProperties: { x: { description: "X." }, y: {} },
          properties: { z: { description: " " } },
        },
      },
      types: { "p:index:T": { properties: { a: { description: "a" }, b: {} } } },
    };
    expect(undocumented(bad)).to.deep.equal([
      "p:index:A input y",
      "p:index:A output z",
      "p:index:T.b",
    ]);
  });

  it("the analyzer refuses Args the schema cannot express, naming the property", async () => {
    // A package whose Args has an inline string union: what the rule "no inline unions" prevents.
    const dir = join(__dirname, "fixtures", "schema-inline-union");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Loose } = require(join(dir, "index.ts")) as Record<string, unknown>;
    const provider = new ComponentProvider({
      components: getPulumiComponents({ Loose }),
      dirname: dir,
      name: "loose",
    });
    let message = "";
    await provider.getSchema().catch((err: Error) => (message = err.message));
    expect(message).to.match(/Union types are not supported.*'LooseArgs\.mode'/);
  });
});
