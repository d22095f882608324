export * from "./global-table-set";
export * from "./regional-api";
export * from "./policies";
export * from "./validate";
export * from "./arc-control-plane";
export * from "./failover-dns";
