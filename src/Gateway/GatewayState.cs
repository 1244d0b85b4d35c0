using Microsoft.Extensions.Logging;

namespace Sandbox.Gateway;

/// <summary>What the gateway's endpoints share: options, kernels, sessions and the log.</summary>
internal sealed class GatewayState(GatewayOptions options, KernelManager kernels, ILogger log)
{
    public GatewayOptions Options { get; } = options;
    public KernelManager Kernels { get; } = kernels;
    public SessionStore Sessions { get; } = new(kernels);
    public ILogger Log { get; } = log;
    /// <summary>The gateway port's token, from KG_AUTH_TOKEN at start or set once later by <c>POST /init</c>.</summary>
    public Sandbox.Web.AccessToken Token { get; } = new(options.AuthToken);
}
