using System.Text.Json.Serialization;
using Sandbox.Api;

namespace Sandbox.Hosting;

// The computer-action payloads, added to the appliance's one JSON context.
[JsonSerializable(typeof(ComputerActionAnswer))]
[JsonSerializable(typeof(ComputerActionsAnswer))]
internal sealed partial class AppJson;
