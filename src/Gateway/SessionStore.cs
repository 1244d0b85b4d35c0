namespace Sandbox.Gateway;

/// <summary>
/// The sessions API's rows (Kernel Gateway keeps them in memory too). A row whose kernel is gone is
/// dropped when next read, as jupyter_server's SessionManager does.
/// </summary>
internal sealed class SessionStore(KernelManager kernels)
{
    private sealed record Row(string Id, string? Path, string? Name, string? Type, string KernelId);

    private readonly object _lock = new();
    private readonly List<Row> _rows = [];

    public SessionModel Add(string? path, string? name, string? type, string kernelId)
    {
        var row = new Row(Guid.NewGuid().ToString(), path, name, type, kernelId);
        lock (_lock) _rows.Add(row);
        return Model(row)!;
    }

    public SessionModel? Get(string id) => Model(Find(r => r.Id == id));

    public SessionModel? ByPath(string path) => Model(Find(r => r.Path == path));

    public SessionModel[] List()
    {
        Row[] rows;
        lock (_lock) rows = [.. _rows];
        return rows.Select(Model).Where(m => m is not null).ToArray()!;
    }

    public SessionModel? Update(string id, string? path, string? name, string? type, string? kernelId)
    {
        lock (_lock)
        {
            var i = _rows.FindIndex(r => r.Id == id);
            if (i < 0) return null;
            var r = _rows[i];
            _rows[i] = r with { Path = path ?? r.Path, Name = name ?? r.Name, Type = type ?? r.Type, KernelId = kernelId ?? r.KernelId };
            return Model(_rows[i]);
        }
    }

    /// <summary>Removes the row; returns its kernel id, or null when there was no such session.</summary>
    public string? Remove(string id)
    {
        lock (_lock)
        {
            var i = _rows.FindIndex(r => r.Id == id);
            if (i < 0) return null;
            var kernelId = _rows[i].KernelId;
            _rows.RemoveAt(i);
            return kernelId;
        }
    }

    private Row? Find(Func<Row, bool> match)
    {
        lock (_lock) return _rows.FirstOrDefault(match);
    }

    private SessionModel? Model(Row? row)
    {
        if (row is null) return null;
        if (kernels.Get(row.KernelId) is not { } kernel)
        {
            lock (_lock) _rows.Remove(row);
            return null;
        }
        return new SessionModel(row.Id, row.Path, row.Name, row.Type, kernel.Model(),
            row.Type == "notebook" ? new NotebookRef(row.Path, row.Name) : null);
    }
}
