/**
 * Composition only: read the stack's typed config, build the components, export what other
 * stacks and operators need. Which parts a stack owns follows from config (`role`), never from
 * the stack's name.
 */
import * as pulumi from "@pulumi/pulumi";
import { GlobalTableSet, RegionalApi, type RegionalTableMap } from "./components";
import { loadStackConfig, qualifyStackName, type StackConfig } from "./config";
import type { TableKey } from "./functions/tables";

const cfg = loadStackConfig();
const tags = { project: "resilient-dynamo", stack: cfg.stack, region: cfg.region };

interface Data {
  tableNames: pulumi.Output<Record<TableKey, string>>;
  tableArns: pulumi.Output<RegionalTableMap>;
  streamArns: pulumi.Output<RegionalTableMap>;
}

function data(config: StackConfig): Data {
  if (config.role === "primary") {
    const tables = new GlobalTableSet("orders-data", {
      region: config.region,
      replicaRegions: config.replicaRegions,
      namePrefix: config.namePrefix,
      deletionProtection: config.deletionProtection,
      tags,
    });
    return { tableNames: tables.tableNames, tableArns: tables.tableArns, streamArns: tables.streamArns };
  }
  const primaryName = qualifyStackName(config.primaryStack, pulumi.getOrganization(), pulumi.getProject());
  const primary = new pulumi.StackReference("primary", { name: primaryName });
  const tableArns = primary.requireOutput("tableArns") as pulumi.Output<RegionalTableMap>;
  return {
    tableNames: primary.requireOutput("tableNames") as pulumi.Output<Record<TableKey, string>>,
    tableArns: tableArns.apply((arns) => {
      if (!arns[config.region]) {
        throw new Error(
          `stack ${primaryName} has no replicas in ${config.region} (it has ${Object.keys(arns).join(", ")}); ` +
            `add ${config.region} to its resilient-dynamo:replicaRegions and run pulumi up there first`,
        );
      }
      return arns;
    }),
    streamArns: primary.requireOutput("streamArns") as pulumi.Output<RegionalTableMap>,
  };
}

const tables = data(cfg);

const api = new RegionalApi(`orders-${cfg.region}`, {
  region: cfg.region,
  namePrefix: cfg.namePrefix,
  tableNames: tables.tableNames,
  tableArns: tables.tableArns.apply((arns) => arns[cfg.region] as Record<TableKey, string>),
  stageName: cfg.stageName,
  throttleRateLimit: cfg.throttleRateLimit,
  throttleBurstLimit: cfg.throttleBurstLimit,
  logRetentionDays: cfg.logRetentionDays,
  customDomain:
    cfg.domainName && cfg.hostedZoneId ? { domainName: cfg.domainName, hostedZoneId: cfg.hostedZoneId } : undefined,
  corsAllowOrigin: cfg.corsAllowOrigin,
  tags,
});

export const region = cfg.region;
export const role = cfg.role;
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
