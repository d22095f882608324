import type * as pulumi from "@pulumi/pulumi";

/** The Pulumi package name: the first part of every component's type token. */
export const PACKAGE_NAME = "resilient-dynamo";

/** A component's type token in the form a component package needs: `<package>:index:<Class>`. */
export function componentType(className: string): string {
  return `${PACKAGE_NAME}:index:${className}`;
}

/**
 * The component's options with an alias to the type it had before 1.0.0 (`resilient-dynamo:data:
 * GlobalTableSet` and so on), so a stack deployed with the old type keeps its resources: the
 * engine moves the component and, through it, every child to the new URN instead of replacing them.
 */
export function withPreviousType(
  opts: pulumi.ComponentResourceOptions | undefined,
  previousType: string,
): pulumi.ComponentResourceOptions {
  return { ...opts, aliases: [...(opts?.aliases ?? []), { type: previousType }] };
}
