using Sandbox.Common;

namespace Sandbox.LiveView;

// The JSON text messages of /view/stream (README "Live view"). Every message has "type"; a "frame"
// message is followed by one binary message holding that frame's JPEG.

internal sealed record HelloMessage(
    string Type,
    long ViewerId,
    bool Control,
    string? ControlUnavailable,
    int Fps,
    int Quality,
    int[] MaxSize,
    string Encoder,
    ActivityEntry[] Activity);

internal sealed record FrameMessage(
    string Type,
    long Seq,
    int Width,
    int Height,
    int[] Screen,
    int[] Pointer,
    double CapturedMs,
    double EncodeMs,
    int Bytes,
    long Skipped);

internal sealed record ActivityMessage(string Type, ActivityEntry Entry);

/// <summary><c>display</c>: the screen cannot be read (<see cref="Message"/>) or is back (null).</summary>
internal sealed record DisplayMessage(string Type, string State, string? Message);

/// <summary>The answer to a viewer's control message; <see cref="Id"/> echoes the message's id.</summary>
internal sealed record ControlResultMessage(string Type, long? Id, string Status, int Code, string? Message);

internal sealed record ViewerInfo(long Id, string Kind, long Sent, long Skipped, long DroppedEvents);

/// <summary>GET /view/status.</summary>
internal sealed record LiveViewStatus(
    bool Enabled,
    bool Control,
    string? ControlUnavailable,
    int Fps,
    int Quality,
    int[] MaxSize,
    string Encoder,
    long Checks,
    long Encoded,
    long? LatestSeq,
    int? LatestBytes,
    double? LatestEncodeMs,
    ViewerInfo[] Viewers);
