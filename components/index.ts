export * from "./global-table-set";
export * from "./regional-api";
export * from "./policies";
export * from "./validate";
// Before canary-fleet: the schema analyzer reads the doc comments of the types CanaryFleetArgs
// reaches only from files it walks before it finds the component.
export * from "./canary-script";
export * from "./canary-fleet";
export { ARTIFACT_PREFIX, CODE_PREFIX, canaryLogGroupName } from "./canary-resources";
export * from "./dashboard-widgets";
export * from "./dynamo-operations";
export * from "./regional-dashboard";
export * from "./service-alarms";
export * from "./arc-control-plane";
export * from "./failover-dns";
export * from "./api-account-logging";
export * from "./fis-plan";
export * from "./chaos-experiments";
export * from "./mrsc";
export * from "./stream-function";
export * from "./regions";
export * from "./component-type";
export * from "./defaults";
export * from "./bundle";
