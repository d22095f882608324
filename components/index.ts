export * from "./global-table-set";
export * from "./regional-api";
export * from "./policies";
export * from "./validate";
