using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Web;

namespace Sandbox.Gateway;

/// <summary>
/// The Kernel Gateway compatible server: a second slim WebApplication on its own listener (VMs are
/// port-forwarded, so routing by Host header would not work). Token auth, CORS and JSON errors wrap
/// every endpoint as Kernel Gateway's handler mixins do.
/// </summary>
internal static class GatewayApp
{
    public static WebApplication Build(GatewayState gateway, ILoggerProvider logProvider, PreBoundPort? bound = null)
    {
        var options = gateway.Options;
        var builder = BuilderDefaults.CreateBuilder(options.Host, options.Port, options.MaxRequestBodyBytes, bound);
        BuilderDefaults.UseLog(builder, logProvider, "Microsoft");
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJson.Default));

        var app = builder.Build();
        var expectedToken = gateway.Token;
        // Token auth and CORS as Kernel Gateway's handler mixins: CORS headers on every answer, a preflight without auth.
        BuilderDefaults.UseSecuredPipeline(app, new GuardPolicy(options.AllowHosts, options.AllowOrigins), a => a.Use(async (ctx, next) =>
        {
            ApplyCors(ctx.Response, options);
            // CORS preflight is answered without auth, as Kernel Gateway's options() handlers do.
            if (HttpMethods.IsOptions(ctx.Request.Method))
            {
                ctx.Response.StatusCode = StatusCodes.Status200OK;
                return;
            }
            if (!expectedToken.Authorizes(ctx.Request))
            {
                await ErrorResults.Error(401, "Unauthorized", "").ExecuteAsync(ctx);
                return;
            }
            await next(ctx);
        }), app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sandbox.Gateway"));
        app.UseWebSockets();
        app.MapKernelsApi(gateway);
        app.MapKernelSpecsApi(gateway);
        app.MapSessionsApi(gateway);
        app.MapFallback(() => ErrorResults.Error(404, "Not Found", ""));
        return app;
    }

    private static void ApplyCors(HttpResponse response, GatewayOptions o)
    {
        void Set(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) response.Headers[name] = value;
        }
        Set("Access-Control-Allow-Origin", o.AllowOrigin);
        Set("Access-Control-Allow-Headers", o.AllowHeaders);
        Set("Access-Control-Allow-Methods", o.AllowMethods);
        Set("Access-Control-Allow-Credentials", o.AllowCredentials);
        Set("Access-Control-Expose-Headers", o.ExposeHeaders);
        Set("Access-Control-Max-Age", o.MaxAge);
    }

}
