/**
 * RegionalApi's routes and CORS: one API Gateway resource per path segment, a method, a Lambda
 * proxy integration and an invoke permission per route, OPTIONS preflight methods when CORS is
 * on, and the gateway's own error responses. Every input a deployment snapshot depends on is
 * recorded in an ApiRevision (see api-deployment.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ApiRevision } from "./api-deployment";
import type { ApiRouteArgs, RegionalApiArgs } from "./regional-api";

/** HTTP method of a route. OPTIONS is not one: RegionalApi answers preflight itself (CORS). */
export const HttpMethod = {
  /** GET */
  Get: "GET",
  /** POST */
  Post: "POST",
  /** PUT */
  Put: "PUT",
  /** PATCH */
  Patch: "PATCH",
  /** DELETE */
  Delete: "DELETE",
  /** HEAD */
  Head: "HEAD",
} as const;
/** HTTP method of a route. */
export type HttpMethod = (typeof HttpMethod)[keyof typeof HttpMethod];

/** Who may call a route. */
export const RouteAuth = {
  /** A SigV4-signed request (API Gateway AWS_IAM authorization). */
  Iam: "iam",
  /** Anyone: only for health checks. */
  None: "none",
} as const;
/** Who may call a route. */
export type RouteAuth = (typeof RouteAuth)[keyof typeof RouteAuth];

/** A path segment: a literal or a `{parameter}`. */
const SEGMENT = /^(?:[A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\})$/;

/** Throws unless every route has a known method and auth, a well-formed path, and is unique. */
export function assertRoutes(routes: readonly ApiRouteArgs[]): void {
  const seen = new Set<string>();
  for (const route of routes) {
    const what = `route ${route.method} ${route.path}`;
    if (!(Object.values(HttpMethod) as string[]).includes(route.method)) {
      throw new Error(`${what}: method must be one of ${Object.values(HttpMethod).join(", ")}`);
    }
    if (!(Object.values(RouteAuth) as string[]).includes(route.auth)) {
      throw new Error(`${what}: auth must be one of ${Object.values(RouteAuth).join(", ")}`);
    }
    const segments = route.path.split("/").slice(1);
    if (
      !route.path.startsWith("/") ||
      segments.length === 0 ||
      !segments.every((s) => SEGMENT.test(s))
    ) {
      throw new Error(`${what}: path must be /segment/... of letters, digits, . _ - or {name}`);
    }
    if (seen.has(`${route.method} ${route.path}`)) throw new Error(`${what} is listed twice`);
    seen.add(`${route.method} ${route.path}`);
  }
}

/** Every distinct resource path, parents before children ("/orders" before "/orders/{orderId}"). */
export function resourcePaths(routes: readonly ApiRouteArgs[]): string[] {
  const paths = new Set<string>();
  for (const route of routes) {
    const segments = route.path.split("/").filter(Boolean);
    for (let i = 1; i <= segments.length; i++) paths.add("/" + segments.slice(0, i).join("/"));
  }
  return [...paths].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

/** `/orders/{orderId}` -> `orders/*`, the form execute-api ARNs use for a resource path. */
export function executeApiPath(path: string): string {
  return path
    .split("/")
    .filter(Boolean)
    .map((s) => (s.startsWith("{") ? "*" : s))
    .join("/");
}

/** `/orders/{orderId}` -> `-orders-orderId`: a path's part of a resource name. */
function pathId(path: string): string {
  return path.replace(/[{}]/g, "").replace(/\//g, "-");
}

/** What the routes need besides RegionalApiArgs. */
export interface ApiRoutesContext {
  /** The RegionalApi: parent of every resource. */
  readonly owner: pulumi.ComponentResource;
  /** The RegionalApi's name: prefix of every resource name. */
  readonly name: string;
  /** The REST API the routes belong to. */
  readonly api: aws.apigateway.RestApi;
  /** The API's functions by name. */
  readonly functions: Readonly<Record<string, aws.lambda.Function>>;
}

/** What a deployment of the routes waits for and snapshots. */
export interface ApiRoutes {
  /** Every method, integration and response: the deployment depends on them all. */
  readonly deploymentDeps: pulumi.Resource[];
  /** Their inputs, and the permissions', for the deployment's trigger. */
  readonly revision: ApiRevision;
}

/** Creates the resources, methods, integrations, permissions, CORS preflight and gateway errors. */
export function apiRoutes(args: RegionalApiArgs, context: ApiRoutesContext): ApiRoutes {
  const resourceIds = apiResources(args, context);
  const revision = new ApiRevision();
  const deploymentDeps = [
    ...args.routes.flatMap((route) => routeMethod(route, resourceIds, args, context, revision)),
    ...(args.corsAllowOrigin
      ? [...new Set(args.routes.map((r) => r.path))].flatMap((path) =>
          corsPreflight(path, args.corsAllowOrigin as string, resourceIds, args, context, revision),
        )
      : []),
    ...gatewayResponses(args, context, revision),
  ];
  return { deploymentDeps, revision };
}

/** One API Gateway resource per path, parents first; their ids by path (`/` is the root). */
function apiResources(
  args: RegionalApiArgs,
  { owner, name, api }: ApiRoutesContext,
): Record<string, pulumi.Input<string>> {
  const resourceIds: Record<string, pulumi.Input<string>> = { "/": api.rootResourceId };
  for (const path of resourcePaths(args.routes)) {
    const segments = path.split("/").filter(Boolean);
    const parentPath = segments.length === 1 ? "/" : "/" + segments.slice(0, -1).join("/");
    const resource = new aws.apigateway.Resource(
      `${name}-res${pathId(path)}`,
      {
        region: args.region,
        restApi: api.id,
        parentId: resourceIds[parentPath] as pulumi.Input<string>,
        pathPart: segments.at(-1) as string,
      },
      { parent: owner },
    );
    resourceIds[path] = resource.id;
  }
  return resourceIds;
}

/** A route's method, its Lambda proxy integration, and API Gateway's permission to invoke. */
function routeMethod(
  route: ApiRouteArgs,
  resourceIds: Record<string, pulumi.Input<string>>,
  args: RegionalApiArgs,
  { owner, name, api, functions }: ApiRoutesContext,
  revision: ApiRevision,
): pulumi.Resource[] {
  const region = args.region;
  const parent = { parent: owner };
  const id = `${name}-${route.method.toLowerCase()}${pathId(route.path)}`;
  const fn = functions[route.function] as aws.lambda.Function;
  const method = new aws.apigateway.Method(
    id,
    revision.add("aws:apigateway/method:Method", id, {
      region,
      restApi: api.id,
      resourceId: resourceIds[route.path] as pulumi.Input<string>,
      httpMethod: route.method,
      authorization: route.auth === RouteAuth.Iam ? "AWS_IAM" : "NONE",
    }),
    parent,
  );
  const integration = new aws.apigateway.Integration(
    id,
    revision.add("aws:apigateway/integration:Integration", id, {
      region,
      restApi: api.id,
      resourceId: method.resourceId,
      httpMethod: method.httpMethod,
      type: "AWS_PROXY",
      integrationHttpMethod: "POST",
      uri: fn.invokeArn,
      timeoutMilliseconds: 29000,
    }),
    parent,
  );
  new aws.lambda.Permission(
    id,
    revision.add("aws:lambda/permission:Permission", id, {
      region,
      action: "lambda:InvokeFunction",
      function: fn.name,
      principal: "apigateway.amazonaws.com",
      sourceArn: pulumi.interpolate`${api.executionArn}/*/${route.method}/${executeApiPath(route.path)}`,
    }),
    parent,
  );
  return [method, integration];
}

/** The headers a CORS preflight answer allows. */
const CORS_ALLOW_HEADERS =
  "'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-content-sha256'";

/** A path's OPTIONS method, answered by API Gateway itself (MOCK) with the CORS headers. */
function corsPreflight(
  path: string,
  allowOrigin: string,
  resourceIds: Record<string, pulumi.Input<string>>,
  args: RegionalApiArgs,
  { owner, name, api }: ApiRoutesContext,
  revision: ApiRevision,
): pulumi.Resource[] {
  const region = args.region;
  const parent = { parent: owner };
  const id = `${name}-options${pathId(path)}`;
  const allowMethods = [
    ...new Set(args.routes.filter((r) => r.path === path).map((r) => r.method)),
    "OPTIONS",
  ].join(",");
  const method = new aws.apigateway.Method(
    id,
    revision.add("aws:apigateway/method:Method", id, {
      region,
      restApi: api.id,
      resourceId: resourceIds[path] as pulumi.Input<string>,
      httpMethod: "OPTIONS",
      authorization: "NONE",
    }),
    parent,
  );
  const integration = new aws.apigateway.Integration(
    id,
    revision.add("aws:apigateway/integration:Integration", id, {
      region,
      restApi: api.id,
      resourceId: method.resourceId,
      httpMethod: method.httpMethod,
      type: "MOCK",
      requestTemplates: { "application/json": '{"statusCode": 200}' },
    }),
    parent,
  );
  const headers = {
    "method.response.header.Access-Control-Allow-Origin": `'${allowOrigin}'`,
    "method.response.header.Access-Control-Allow-Methods": `'${allowMethods}'`,
    "method.response.header.Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
  };
  const response = new aws.apigateway.MethodResponse(
    id,
    revision.add("aws:apigateway/methodResponse:MethodResponse", id, {
      region,
      restApi: api.id,
      resourceId: method.resourceId,
      httpMethod: method.httpMethod,
      statusCode: "200",
      responseParameters: Object.fromEntries(Object.keys(headers).map((h) => [h, true])),
    }),
    parent,
  );
  const integrationResponse = new aws.apigateway.IntegrationResponse(
    id,
    revision.add("aws:apigateway/integrationResponse:IntegrationResponse", id, {
      region,
      restApi: api.id,
      resourceId: method.resourceId,
      httpMethod: method.httpMethod,
      statusCode: response.statusCode,
      responseParameters: headers,
    }),
    { parent: owner, dependsOn: [integration] },
  );
  return [method, integration, response, integrationResponse];
}

/**
 * Errors API Gateway answers itself (missing auth, throttling, unknown route) keep the service's
 * JSON error shape and say which region answered.
 */
function gatewayResponses(
  args: RegionalApiArgs,
  { owner, name, api }: ApiRoutesContext,
  revision: ApiRevision,
): pulumi.Resource[] {
  const region = args.region;
  return (
    [
      ["DEFAULT_4XX", "ClientError"],
      ["DEFAULT_5XX", "GatewayError"],
    ] as const
  ).map(([type, code]) => {
    const id = `${name}-${type.toLowerCase().replace("_", "-")}`;
    return new aws.apigateway.Response(
      id,
      revision.add("aws:apigateway/response:Response", id, {
        region,
        restApiId: api.id,
        responseType: type,
        responseTemplates: {
          "application/json": `{"error":"${code}","message":$context.error.messageString}`,
        },
        responseParameters: {
          "gatewayresponse.header.x-served-by-region": `'${region}'`,
          "gatewayresponse.header.content-type": "'application/json'",
        },
      }),
      { parent: owner },
    );
  });
}
