using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sandbox.Hosting;

/// <summary>
/// Cold start (docs/performance.md, "Third round: cold start"): the generic types dependency injection asks for
/// while the host is built and started (the options pipeline of each options class: OptionsFactory&lt;T&gt; and the
/// arrays of its configure, post-configure and validate steps), compiled into the binary so Native AOT's type
/// loader finds them instead of building them at run time. <see cref="Keep"/> is never run: naming the types
/// in reachable code is what makes the compiler emit them.
/// </summary>
internal static class StartupTypes
{
    public static object[] Keep(bool run) => !run ? [] :
    [
        Options<KestrelServerOptions>(), Options<SocketTransportOptions>(), Options<RouteOptions>(), Options<HostOptions>(),
        Options<ConsoleLifetimeOptions>(), Options<MetricsOptions>(), Options<RouteHandlerOptions>(),
        Options<Microsoft.AspNetCore.Http.Json.JsonOptions>(), Options<FormOptions>(), Options<Microsoft.Extensions.Validation.ValidationOptions>(),
        new Logger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>(null!),
    ];

    private static object Options<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>() where T : class => new object[]
    {
        new OptionsFactory<T>(new IConfigureOptions<T>[0], new IPostConfigureOptions<T>[0], new IValidateOptions<T>[0]),
        new OptionsManager<T>(null!), new OptionsMonitor<T>(null!, [], null!), new OptionsCache<T>(),
        new IOptionsChangeTokenSource<T>[0],
    };
}
