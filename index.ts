/**
 * Composition only: read the stack's typed config, build the components, export what other
 * stacks and operators need. Which parts a stack owns follows from config (`role`), never from
 * the stack's name. The cross-stack plumbing, routing and observability wiring live in stack/.
 */
import { ApiAccountLogging, GlobalTableSet, RegionalApi, StreamFunction } from "resilient-dynamo";
import { kmsKeysByRegion, loadStackConfig } from "./stack/config";
import { RECONCILER } from "./functions/stream-functions";
import type { TableKey } from "./functions/tables";
import { canaryItems } from "./stack/canary-data";
import { chaosExperiments, fisLambdaTarget } from "./stack/chaos";
import { observability } from "./stack/observability";
import { SERVICE_TABLES, serviceTableOutputs } from "./stack/service-data";
import { SERVICE_API, streamFunctionBinding } from "./stack/service-api";
import {
  agreedConsistency,
  peerView,
  primaryTables,
  selfView,
  StackRefs,
  type RegionView,
  type TableOutputs,
} from "./stack/references";
import { dnsVpc, globalRouting } from "./stack/routing";

const cfg = loadStackConfig();
const tags = { project: "resilient-dynamo", stack: cfg.stack, region: cfg.region };
const refs = new StackRefs();
/** Customer-managed keys by region; undefined: AWS-managed keys. */
const kmsKeys = kmsKeysByRegion(cfg);

const tables: TableOutputs =
  cfg.role === "primary"
    ? serviceTableOutputs(
        new GlobalTableSet("orders-data", {
          region: cfg.region,
          replicaRegions: cfg.replicaRegions,
          namePrefix: cfg.namePrefix,
          tables: SERVICE_TABLES,
          deletionProtection: cfg.deletionProtection,
          kmsKeyArns: kmsKeys,
          consistency: cfg.consistency,
          witnessRegion: cfg.witnessRegion,
          tags,
        }),
      )
    : primaryTables(refs, cfg);
// The canaries' own order, product and customer, replicated with the tables.
if (cfg.role === "primary") canaryItems(cfg.region, tables.tableNames);

// FIS Lambda actions reach this region's functions through this bucket (fisLambdaExtension).
const fisTarget = fisLambdaTarget(cfg, tags);

const api = new RegionalApi(`orders-${cfg.region}`, {
  ...SERVICE_API,
  region: cfg.region,
  namePrefix: cfg.namePrefix,
  tableNames: tables.tableNames,
  tableArns: tables.tableArns.apply((arns) => arns[cfg.region] as Record<TableKey, string>),
  stageName: cfg.stageName,
  throttleRateLimit: cfg.throttleRateLimit,
  throttleBurstLimit: cfg.throttleBurstLimit,
  logRetentionDays: cfg.logRetentionDays,
  customDomain:
    cfg.domainName && cfg.hostedZoneId
      ? {
          domainName: cfg.domainName,
          hostedZoneId: cfg.hostedZoneId,
          // One stack owns the certificate validation record every region's ACM asks for.
          createValidationRecord: cfg.role === "primary",
        }
      : undefined,
  corsAllowOrigin: cfg.corsAllowOrigin,
  kmsKeyArn: kmsKeys?.[cfg.region],
  manageAccountLogging: cfg.manageAccountLogging,
  faultInjection: fisTarget && {
    layerArn: fisTarget.layerArn,
    configBucketArn: fisTarget.bucketArn,
  },
  tags,
});
// The primary sets API Gateway's account logging role in the replica regions too, so each
// region's setting has one owner (see manageAccountLogging in stack/config-schema.ts).
if (cfg.role === "primary" && cfg.manageAccountLogging) {
  new ApiAccountLogging("apigw-account-logging", { regions: cfg.replicaRegions, tags });
}

// Eventual mode's conflict compensation: the reconciler on this region's products stream.
const reconciler = RECONCILER.modes.includes(cfg.consistency)
  ? new StreamFunction(`reconciler-${cfg.region}`, {
      ...streamFunctionBinding(RECONCILER),
      region: cfg.region,
      namePrefix: cfg.namePrefix,
      streamArn: tables.streamArns.apply((arns) => {
        const arn = arns[cfg.region]?.[RECONCILER.stream];
        if (!arn) throw new Error(`no ${RECONCILER.stream} stream in ${cfg.region}`);
        return arn;
      }),
      tableArns: tables.tableArns.apply((arns) => arns[cfg.region] as Record<TableKey, string>),
      tableNames: tables.tableNames,
      logRetentionDays: cfg.logRetentionDays,
      kmsKeyArn: kmsKeys?.[cfg.region],
      alarmTopicArn: cfg.alarmTopicArn,
      tags,
    })
  : undefined;

/** This region and every peer region, this stack's first: the input of the cross-region parts. */
const regions: RegionView[] = [
  selfView(cfg, api, tables),
  ...cfg.peerStacks.map((stack) => peerView(refs, stack)),
];

const watch = observability({ config: cfg, tags, refs, regions, api, tables });
const vpc = dnsVpc(cfg, tags);
const routed = globalRouting({ config: cfg, tags, refs, regions, vpcId: vpc });
const chaos = chaosExperiments({
  config: cfg,
  tags,
  refs,
  regions,
  alarmArns: watch.alarmArns,
  fisTarget,
});

export const region = cfg.region;
export const role = cfg.role;
/** `eventual` or `strong`; the stacks that read this one refuse a different mode. */
export const consistency = agreedConsistency(refs, cfg);
/** The MRSC witness region (primary, strong mode with two app regions). */
export const witnessRegion = cfg.role === "primary" ? cfg.witnessRegion : undefined;
/** The reconciler's function and failure queue (eventual mode); undefined in strong mode. */
export const reconcilerFunctionName = reconciler?.functionName;
export const reconcilerFailureQueueUrl = reconciler?.failureQueueUrl;
export const tableNames = tables.tableNames;
export const tableArns = tables.tableArns;
export const streamArns = tables.streamArns;
export const apiId = api.apiId;
export const stageName = api.stageName;
export const stageArn = api.stageArn;
export const executionArn = api.executionArn;
export const invokeUrl = api.invokeUrl;
export const url = api.url;
export const functionArns = api.functionArns;
export const regionalDomainName = api.regionalDomainName;
export const regionalZoneId = api.regionalZoneId;
export const canaries = watch.canaries;
export const dashboardName = watch.dashboardName;
export const alarmArns = watch.alarmArns;
/** This region's VPC for the private service zone (zoneType private). */
export const vpcId = vpc;
// Read by the arc operator CLI and the other region stacks: keep these names.
export const routing = cfg.routing;
export const serviceDomain = routed.serviceDomain;
export const arcClusterArn = routed.arcClusterArn;
export const arcClusterEndpoints = routed.arcClusterEndpoints;
export const arcControlPanelArn = routed.arcControlPanelArn;
export const routingControlArns = routed.routingControlArns;
export const routingHealthCheckIds = routed.routingHealthCheckIds;
/** routing healthcheck: the HTTPS health check id by region, for operators and alarms. */
export const httpsHealthCheckIds = routed.httpsHealthCheckIds;
/** fisLambdaExtension: this region's FIS configuration bucket, read by the routing stack. */
export const fisConfigBucketArn = fisTarget?.bucketArn;
/**
 * chaosExperiments (routing stack): FIS experiment template ids by fault, then region, e.g.
 * `{ "lambda-errors": { "us-east-1": "EXT..." } }`; read by `npm run drill -- --target aws`.
 */
export const fisExperimentTemplateIds = chaos;
