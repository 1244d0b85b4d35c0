using System.Text.Json.Serialization;
using Sandbox.Api;
using Sandbox.Web;

namespace Sandbox.Hosting;

/// <summary>
/// The source-generated JSON context for every payload of the REST appliance. Every payload type is
/// listed here: the generator reads attributes from one declaration only, so areas cannot add
/// their own partial files. (The gateway has its own context, GatewayJson, for the Jupyter wire.)
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(ScreenshotAnswer))]
[JsonSerializable(typeof(CursorPosition))]
[JsonSerializable(typeof(ScreenSize))]
[JsonSerializable(typeof(ActivityEntry[]))]
[JsonSerializable(typeof(LiveView.HelloMessage))]
[JsonSerializable(typeof(LiveView.FrameMessage))]
[JsonSerializable(typeof(LiveView.ActivityMessage))]
[JsonSerializable(typeof(LiveView.DisplayMessage))]
[JsonSerializable(typeof(LiveView.ControlResultMessage))]
[JsonSerializable(typeof(LiveView.LiveViewStatus))]
[JsonSerializable(typeof(Sandbox.Recording.RecordAnswer))]
[JsonSerializable(typeof(RecordRequest))]
[JsonSerializable(typeof(ComputerActionAnswer))]
[JsonSerializable(typeof(ComputerActionsAnswer))]
internal sealed partial class AppJson : JsonSerializerContext;
