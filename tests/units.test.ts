/**
 * Units a newcomer can read in one sitting: in the product (every TypeScript file git tracks
 * outside tests/), no file over MAX_FILE_LINES lines and no function over MAX_FUNCTION_LINES.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import * as ts from "typescript";

const ROOT = join(__dirname, "..");
const MAX_FILE_LINES = 450;
const MAX_FUNCTION_LINES = 120;

/** Every function-like node with a body (declarations, methods, constructors, arrows) over `max` lines. */
function longFunctions(file: string, text: string, max: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) {
        const name = ts.isConstructorDeclaration(node)
          ? "constructor"
          : (node.name?.getText(source) ?? "(anonymous)");
        found.push(`${file}:${start + 1} ${name} has ${lines} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function productFiles(): string[] {
  return execFileSync("git", ["ls-files", "*.ts", "*.mts"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && !f.startsWith("tests/") && !f.endsWith(".d.ts"));
}

describe("units a newcomer can read", () => {
  const files = productFiles().map((f) => ({ file: f, text: readFileSync(join(ROOT, f), "utf8") }));

  it(`no product file is over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map(({ file, text }) => ({ file, lines: text.split("\n").length }))
      .filter(({ lines }) => lines > MAX_FILE_LINES)
      .map(({ file, lines }) => `${file} has ${lines} lines`);
    expect(long).to.deep.equal([]);
  });

  it(`no product function is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap(({ file, text }) => longFunctions(file, text, MAX_FUNCTION_LINES));
    expect(long).to.deep.equal([]);
  });

  it("the check finds a long function and names it", () => {
    const body = Array.from({ length: 5 }, (_, i) => `  const x${i} = ${i};`).join("\n");
    const text = `export function big(): void {\n${body}\n}\nconst small = () => 1;\n`;
    expect(longFunctions("a.ts", text, 4)).to.deep.equal(["a.ts:1 big has 7 lines"]);
    expect(longFunctions("a.ts", text, 7)).to.deep.equal([]);
  });
});
