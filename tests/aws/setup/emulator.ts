// Placeholder replaced by the AWS work: starts MiniStack unless LOCALSTACK_ENDPOINT is set.
export default async function setup(): Promise<void> {}
