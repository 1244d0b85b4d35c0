namespace Sandbox.LiveView;

/// <summary>
/// One encoded frame of the stream, immutable and shared by every viewer (never copied per viewer).
/// <see cref="CapturedUnixMs"/> is when the screen was read, so clients can measure how old a frame is.
/// </summary>
internal sealed record StreamFrame(
    long Sequence,
    byte[] Jpeg,
    int Width,
    int Height,
    int ScreenWidth,
    int ScreenHeight,
    int PointerX,
    int PointerY,
    double CapturedUnixMs,
    double EncodeMs);
