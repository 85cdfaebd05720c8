/**
 * An error whose message is the whole story for the user: bad config, a refused upgrade.
 * components/stack.ts turns it into a pulumi.RunError so the CLI prints the message without a stack trace.
 */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserFacingError";
  }
}
