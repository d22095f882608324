/**
 * RegionalApi's custom domain: an ACM certificate validated by DNS, a regional API Gateway domain
 * name on TLS 1.2, and the stage mapped under a base path.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CustomDomainArgs } from "./regional-api";

/** CustomDomainArgs' defaults. */
export const CUSTOM_DOMAIN_DEFAULTS = {
  basePath: "v1",
  createValidationRecord: true,
} as const;

/** Throws unless the base path is one path segment. */
export function assertCustomDomain(domain: CustomDomainArgs | undefined): void {
  if (domain?.basePath !== undefined && !/^[A-Za-z0-9._-]+$/.test(domain.basePath)) {
    throw new Error(
      `customDomain.basePath must be a single path segment: got ${JSON.stringify(domain.basePath)}`,
    );
  }
}

/** Where a custom domain serves the stage. */
export interface ApiDomain {
  /** Target of Route 53 alias records for the domain in this region. */
  readonly regionalDomainName: pulumi.Output<string>;
  /** Hosted zone of `regionalDomainName`. */
  readonly regionalZoneId: pulumi.Output<string>;
  /** `https://<domain>/<basePath>`. */
  readonly url: pulumi.Output<string>;
}

/** What the domain needs: where, which stage, and the RegionalApi's parent and name. */
export interface ApiDomainContext {
  /** The RegionalApi: parent of every resource. */
  readonly owner: pulumi.ComponentResource;
  /** The RegionalApi's name: prefix of every resource name. */
  readonly name: string;
  /** Region of the certificate and domain name. */
  readonly region: string;
  /** The REST API the domain serves. */
  readonly api: aws.apigateway.RestApi;
  /** The stage mapped under the base path. */
  readonly stage: aws.apigateway.Stage;
  /** Tags on every taggable resource. */
  readonly tags: Record<string, string> | undefined;
}

/** Creates the certificate, its validation, the domain name and the base path mapping. */
export function apiDomain(domain: CustomDomainArgs, context: ApiDomainContext): ApiDomain {
  const { owner, name, region, tags } = context;
  const parent = { parent: owner };
  const basePath = domain.basePath ?? CUSTOM_DOMAIN_DEFAULTS.basePath;
  const certificate = new aws.acm.Certificate(
    `${name}-cert`,
    { region, domainName: domain.domainName, validationMethod: "DNS", tags },
    parent,
  );
  const option = certificate.domainValidationOptions.apply((options) => {
    const first = options[0];
    if (!first) throw new Error(`ACM returned no DNS validation record for ${domain.domainName}`);
    return first;
  });
  // Every region's certificate for the same name asks for the same validation record: one
  // API owns it (allowOverwrite takes over a record an older version of a peer created),
  // the others validate on it.
  const validationFqdn =
    (domain.createValidationRecord ?? CUSTOM_DOMAIN_DEFAULTS.createValidationRecord)
      ? new aws.route53.Record(
          `${name}-cert-validation`,
          {
            zoneId: domain.hostedZoneId,
            name: option.resourceRecordName,
            type: option.resourceRecordType,
            records: [option.resourceRecordValue],
            ttl: 300,
            allowOverwrite: true,
          },
          parent,
        ).fqdn
      : option.resourceRecordName.apply((n) => n.replace(/\.$/, ""));
  const validation = new aws.acm.CertificateValidation(
    `${name}-cert-validation`,
    { region, certificateArn: certificate.arn, validationRecordFqdns: [validationFqdn] },
    parent,
  );
  const domainName = new aws.apigateway.DomainName(
    `${name}-domain`,
    {
      region,
      domainName: domain.domainName,
      regionalCertificateArn: validation.certificateArn,
      endpointConfiguration: { types: "REGIONAL" },
      securityPolicy: "TLS_1_2",
      tags,
    },
    parent,
  );
  new aws.apigateway.BasePathMapping(
    `${name}-base-path`,
    {
      region,
      restApi: context.api.id,
      stageName: context.stage.stageName,
      domainName: domainName.domainName,
      basePath,
    },
    parent,
  );
  return {
    regionalDomainName: domainName.regionalDomainName,
    regionalZoneId: domainName.regionalZoneId,
    url: pulumi.interpolate`https://${domain.domainName}/${basePath}`,
  };
}
