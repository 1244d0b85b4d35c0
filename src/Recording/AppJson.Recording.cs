using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Api;
using Sandbox.Recording;

namespace Sandbox.Hosting;

[JsonSerializable(typeof(RecordAnswer))]
[JsonSerializable(typeof(RecordingHealth))]
[JsonSerializable(typeof(InputEvent))]
[JsonSerializable(typeof(JournalNote))]
[JsonSerializable(typeof(List<ActionRecord>))]
internal sealed partial class AppJson;
