namespace TrustPool.Cli.Commands;

/// <summary>
/// What <c>trustpool demo --keep</c> leaves running, for an in-process caller (the dashboard's browser tests) that
/// looks at the live service instead of waiting for Ctrl+C.
/// </summary>
/// <param name="Origin">The service's https origin, e.g. <c>https://127.0.0.1:45123</c> (the dashboard is at <c>/</c>).</param>
/// <param name="ReaderToken">The reader token made for the dashboard.</param>
/// <param name="CaCertificatePath">PEM of the demo's service CA (it issued the service's TLS certificate).</param>
/// <param name="AdminTokenPath">File holding the demo's admin token.</param>
/// <param name="Victim">The host that was tampered with (untrusted).</param>
/// <param name="Hosts">Every demo host's name (the rogue host was refused and is not one).</param>
internal sealed record DemoKept(Uri Origin, string ReaderToken, string CaCertificatePath, string AdminTokenPath, string Victim, IReadOnlyList<string> Hosts);
