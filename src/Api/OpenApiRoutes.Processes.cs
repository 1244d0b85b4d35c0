using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Sandbox.Processes;
using Sandbox.Web;

namespace Sandbox.Api;

/// <summary>/process routes (docs/processes.md).</summary>
internal static partial class OpenApiRoutes
{
    private static JsonNode BodySchema(JsonTypeInfo info) =>
        JsonSchemaExporter.GetJsonSchemaAsNode(info, new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true });

    // Locals, not static fields: All (in OpenApiRoutes.cs) calls this during its own initialization, before
    // the static fields of other partial files are guaranteed to be set.
    private static ApiRoute[] ProcessRoutes()
    {
        ApiParameter processId = new("id", "string", "The id POST /process/start returned.") { In = "path", Required = true };
        ApiResponse info = new(200, "The process.") { Json = ProcessesJson.Default.ProcessInfo };
        ApiResponse notFound = new(404, "No such process.") { Json = WebJson.Default.ApiError };
        ApiResponse busy = new(503, "SANDBOX_PROCESS_MAX_CONCURRENT commands are running.") { Json = WebJson.Default.ApiError };
        ApiResponse exited = new(409, "The process has exited.") { Json = WebJson.Default.ApiError };
        return
        [
            new("POST", "/process/run", "processes", "Run a command to its end",
                "`command` through the shell or `argv` as is, with optional `cwd`, `env`, `stdin` (+`stdin_encoding`), `timeout_s` " +
                "(default 120; the whole process group is killed) and `max_output_bytes`. Output that is not UTF-8 is base64 with `*_encoding: base64`.")
            {
                Body = new ApiBody("What to run.", BodySchema(ProcessesJson.Default.RunRequest), new JsonObject { ["command"] = "ls -l ~" }),
                Responses = [new(200, "Exit status and output.") { Json = ProcessesJson.Default.RunResult }, BadRequest, busy],
            },
            new("POST", "/process/start", "processes", "Start a background process",
                "Same fields as run (no timeout), plus `tag` and `pty: {cols, rows}` for a pseudo-terminal.")
            {
                Body = new ApiBody("What to start.", BodySchema(ProcessesJson.Default.RunRequest), new JsonObject { ["argv"] = new JsonArray("bash", "-i"), ["pty"] = new JsonObject { ["cols"] = 120, ["rows"] = 40 } }),
                Responses = [new(201, "The process.") { Json = ProcessesJson.Default.ProcessInfo }, BadRequest, busy],
            },
            new("GET", "/process", "processes", "List background processes", "Running and recently exited background processes.")
            {
                Responses = [new(200, "The processes.") { Json = ProcessesJson.Default.ProcessList }],
            },
            new("GET", "/process/{id}", "processes", "One background process", "State, exit status and the last output sequence number.")
            {
                Parameters = [processId], Responses = [info, notFound],
            },
            new("DELETE", "/process/{id}", "processes", "End a background process", "SIGKILL to its process group; answers once it exited and forgets it.")
            {
                Parameters = [processId], Responses = [info, notFound],
            },
            new("POST", "/process/{id}/signal", "processes", "Signal a background process", "`{\"signal\": \"INT\"}` to its process group.")
            {
                Parameters = [processId],
                Body = new ApiBody("The signal.", BodySchema(ProcessesJson.Default.SignalRequest), new JsonObject { ["signal"] = "TERM" }),
                Responses = [info, BadRequest, notFound, exited],
            },
            new("POST", "/process/{id}/stdin", "processes", "Write to a background process's input", "`data` (utf-8 or base64 `encoding`); `eof` closes stdin (a PTY gets Ctrl-D).")
            {
                Parameters = [processId],
                Body = new ApiBody("The input.", BodySchema(ProcessesJson.Default.StdinRequest), new JsonObject { ["data"] = "print(1)\n" }),
                Responses = [info, BadRequest, notFound, exited],
            },
            new("POST", "/process/{id}/resize", "processes", "Resize a PTY", "`{\"cols\", \"rows\"}`; the program gets SIGWINCH.")
            {
                Parameters = [processId],
                Body = new ApiBody("The size.", BodySchema(ProcessesJson.Default.ResizeRequest), new JsonObject { ["cols"] = 120, ["rows"] = 40 }),
                Responses = [info, BadRequest, notFound],
            },
            new("GET", "/process/{id}/stream", "processes", "Stream a background process's output",
                "WebSocket (JSON text frames: output events, the exit event last; client frames `{type: stdin|eof|resize|signal}`) " +
                "or Server-Sent Events. `since` (or Last-Event-ID) replays what came after that sequence number from the bounded buffer.")
            {
                WebSocket = true,
                Parameters = [processId, new("since", "integer", "The last sequence number seen; 0 replays all that is held.") { Minimum = 0, Default = "0" }],
                Responses =
                [
                    new(101, "Switching to the WebSocket protocol."),
                    new(200, "Server-Sent Events, ending after the exit event.") { ContentType = "text/event-stream" },
                    BadRequest, notFound,
                ],
            },
        ];
    }
}
