namespace Sandbox.Common;

/// <summary>
/// Variables pushed at run time (<c>POST /init</c>) for the kernels and processes started from then on. They
/// are also set on this process, so children started through System.Diagnostics.Process inherit them; the
/// gateway's kernel launcher copied the environment at start and merges <see cref="Snapshot"/> itself.
/// </summary>
internal static class InitEnvironment
{
    private static readonly Lock Gate = new();
    private static volatile IReadOnlyDictionary<string, string> _current = new Dictionary<string, string>();

    private static int _generation;

    public static IReadOnlyDictionary<string, string> Snapshot() => _current;

    /// <summary>Grows with every change, so a kernel started earlier (a pooled one) can tell it lacks the newest variables.</summary>
    public static int Generation => Volatile.Read(ref _generation);

    public static void Set(IReadOnlyDictionary<string, string> values)
    {
        lock (Gate)
        {
            var next = new Dictionary<string, string>(_current, StringComparer.Ordinal);
            foreach (var (k, v) in values)
            {
                next[k] = v;
                Environment.SetEnvironmentVariable(k, v);
            }
            _current = next;
            Interlocked.Increment(ref _generation);
        }
    }
}
