import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "./policies";

export interface PrivateBucketArgs {
  /** Region of the bucket. Plain value. */
  region: string;
  /** Customer-managed KMS key for default encryption; SSE-S3 (AES256) when unset. */
  kmsKeyArn?: pulumi.Input<string> | undefined;
  /** Let `pulumi destroy` delete a bucket that still holds objects. @default unset (false) */
  forceDestroy?: boolean;
  tags?: Record<string, string> | undefined;
}

export interface PrivateBucket {
  readonly bucket: aws.s3.Bucket;
  /** Depend on it before writing objects: the bucket is closed to the public from then on. */
  readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
}

/**
 * An S3 bucket with the project's closed defaults, written once: public access blocked,
 * owner-enforced object ownership, default encryption, and a deny-only policy refusing requests
 * without TLS (applied after the public access block). Every resource is named `name`, under
 * `parent`; the caller adds versioning or lifecycle rules of its own.
 */
export function privateBucket(
  name: string,
  args: PrivateBucketArgs,
  parent: pulumi.Resource,
): PrivateBucket {
  const region = args.region;
  const opts = { parent };
  const bucket = new aws.s3.Bucket(
    name,
    {
      region,
      ...(args.forceDestroy !== undefined ? { forceDestroy: args.forceDestroy } : {}),
      tags: args.tags,
    },
    opts,
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    name,
    {
      region,
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new aws.s3.BucketOwnershipControls(
    name,
    { region, bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    name,
    {
      region,
      bucket: bucket.id,
      rules: [
        args.kmsKeyArn
          ? {
              applyServerSideEncryptionByDefault: {
                sseAlgorithm: "aws:kms",
                kmsMasterKeyId: args.kmsKeyArn,
              },
              bucketKeyEnabled: true,
            }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    },
    opts,
  );
  // Deny-only, so it cannot conflict with the public access block; applied after it anyway.
  new aws.s3.BucketPolicy(
    name,
    {
      region,
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))),
    },
    { parent, dependsOn: [publicAccess] },
  );
  return { bucket, publicAccessBlock: publicAccess };
}
