/**
 * The operator's policy for `npm run drill -- --target aws`: made only from DRILL_PERMISSIONS,
 * on the exact ARNs of the stacks' outputs; the example in docs/ is what the tool prints.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import {
  DRILL_ACTIONS,
  DRILL_PERMISSIONS,
  drillPolicy,
  type DrillStackOutputs,
} from "../tools/drill-permissions";
import { PROJECT_DIR } from "../tools/stack-config";
import { sharedEvaluation } from "./support/stacks";

const ACCOUNT = "123456789012";
const control = (id: string) =>
  `arn:aws:route53-recovery-control::${ACCOUNT}:controlpanel/0123456789abcdef0123456789abcdef/routingcontrol/${id}`;
/** The outputs docs/drill-your-deployment-permissions.md shows the policy for. */
const EXAMPLE: DrillStackOutputs[] = [
  {
    region: "us-east-1",
    executionArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:a1b2c3d4e5`,
    stageName: "prod",
  },
  {
    region: "us-west-2",
    executionArn: `arn:aws:execute-api:us-west-2:${ACCOUNT}:f6g7h8i9j0`,
    stageName: "prod",
    routingControlArns: {
      "us-east-1": control("0123456789abcdef"),
      "us-west-2": control("fedcba9876543210"),
    },
    fisExperimentTemplateIds: {
      "api-unavailable": { "us-east-1": "EXTAPIUNAVAILEAST", "us-west-2": "EXTAPIUNAVAILWEST" },
      "lambda-errors": { "us-east-1": "EXTLAMBDAERRSEAST", "us-west-2": "EXTLAMBDAERRSWEST" },
      "lambda-latency": { "us-east-1": "EXTLAMBDALATEAST", "us-west-2": "EXTLAMBDALATWEST" },
      "replication-pause": { "us-east-1": "EXTREPLPAUSEEAST", "us-west-2": "EXTREPLPAUSEWEST" },
    },
  },
];

/** Actions with no resource-level permission, the only ones granted on `*`. */
const STAR_ONLY = [
  "route53-recovery-cluster:ListRoutingControls",
  "fis:ListExperiments",
  "cloudwatch:GetMetricData",
];

describe("drill permissions (npm run drill -- --target aws)", function () {
  this.timeout(300_000);

  it("the example in docs/ parses and is exactly what the tool makes for its outputs", () => {
    const text = readFileSync(
      path.join(PROJECT_DIR, "docs", "drill-your-deployment-permissions.md"),
      "utf8",
    );
    const block = /<!-- drill-policy-example -->\s*```json\n([\s\S]*?)\n```/.exec(text);
    expect(block, "no drill-policy-example block").to.not.equal(null);
    const doc = JSON.parse(block![1] as string);
    expect(doc).to.deep.equal(drillPolicy(EXAMPLE));
    const actions = doc.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions).to.have.members([...DRILL_ACTIONS]);
  });

  it("names only the drill's actions, each once, and * only for actions without resources", () => {
    const doc = drillPolicy(EXAMPLE);
    const actions = doc.Statement.flatMap((s) => s.Action);
    expect(new Set(actions).size).to.equal(actions.length);
    expect(actions).to.have.members([...DRILL_ACTIONS]);
    for (const s of doc.Statement) {
      expect(s.Effect).to.equal("Allow");
      for (const a of s.Action) expect(a, a).to.not.include("*");
      if (s.Resource.includes("*")) {
        expect(s.Resource, s.Sid).to.deep.equal(["*"]);
        for (const a of s.Action) expect(STAR_ONLY, a).to.include(a);
      }
    }
    expect(DRILL_PERMISSIONS.map((p) => p.sid)).to.have.length(doc.Statement.length);
  });

  it("on the mock deployment: the exact controls, templates, experiments and stages", async () => {
    const fis = { fisLambdaExtension: "true" };
    const r1 = await sharedEvaluation("region1", fis);
    const r2 = await sharedEvaluation(
      "region2",
      { ...fis, chaosExperiments: "true" },
      { region1: fis },
    );
    const stacks = [r1.outputs, r2.outputs] as DrillStackOutputs[];
    const doc = drillPolicy(stacks);
    const by = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s.Resource]));
    expect(by["ReadAndFlipRoutingControls"]).to.deep.equal(
      Object.values(r2.outputs["routingControlArns"] as Record<string, string>).sort(),
    );
    const ids = r2.outputs["fisExperimentTemplateIds"] as Record<string, Record<string, string>>;
    const templates = Object.values(ids)
      .flatMap((byRegion) =>
        Object.entries(byRegion).map(
          ([region, id]) => `arn:aws:fis:${region}:000000000000:experiment-template/${id}`,
        ),
      )
      .sort();
    expect(templates).to.have.length(8);
    const experiments = [
      "arn:aws:fis:us-east-1:000000000000:experiment/*",
      "arn:aws:fis:us-west-2:000000000000:experiment/*",
    ];
    expect(by["StartDrillExperiments"]).to.deep.equal([...templates, ...experiments]);
    expect(by["WatchAndStopDrillExperiments"]).to.deep.equal(experiments);
    expect(by["CallTheApi"]).to.deep.equal(
      [r1, r2].map((r) => `${r.outputs["executionArn"]}/${r.outputs["stageName"]}/*/*`).sort(),
    );
  });

  it("refuses outputs that lack what the drill needs, naming it", () => {
    const [region1, region2] = EXAMPLE as [DrillStackOutputs, DrillStackOutputs];
    for (const [stacks, message] of [
      [[region1], /no stack output routingControlArns: pass the outputs of the routing stack/],
      [
        [region1, { ...region2, fisExperimentTemplateIds: undefined }],
        /no stack output fisExperimentTemplateIds: .*chaosExperiments true/,
      ],
      [
        [
          {
            routingControlArns: region2.routingControlArns,
            fisExperimentTemplateIds: region2.fisExperimentTemplateIds,
          },
        ],
        /no stack output executionArn/,
      ],
    ] as const) {
      expect(() => drillPolicy(stacks as readonly DrillStackOutputs[])).to.throw(message);
    }
  });
});
