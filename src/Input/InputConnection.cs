using Microsoft.Extensions.Logging;
using Sandbox.Display;

namespace Sandbox.Input;

/// <summary>
/// The input area's X connection with its <see cref="InputSession"/> attached: each use runs briefly
/// inside the connection's lock (the session is opened on first use and again after a reconnect).
/// </summary>
internal sealed class InputConnection(XDisplayConnection connection, int timeoutMs, ILogger log)
{
    public XDisplayConnection Connection => connection;

    public int TimeoutMs => timeoutMs;

    public T Run<T>(Func<InputSession, T> use) =>
        connection.Run(s => use(s.GetOrAttach(InputSession.Key, x => InputSession.Open(x, log))), timeoutMs);
}
